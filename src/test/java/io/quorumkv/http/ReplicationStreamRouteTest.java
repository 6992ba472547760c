package io.quorumkv.http;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import akka.actor.typed.javadsl.Adapter;
import akka.http.javadsl.model.ws.BinaryMessage;
import akka.http.javadsl.model.ws.Message;
import akka.http.javadsl.testkit.JUnitRouteTest;
import akka.stream.Materializer;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.util.ByteString;
import io.quorumkv.version.HybridLogicalClock;
import java.nio.charset.StandardCharsets;
import io.quorumkv.store.Record;
import io.quorumkv.store.ReplicaProtocol.Applied;
import io.quorumkv.store.ReplicaProtocol.Apply;
import io.quorumkv.store.ReplicaProtocol.Cause;
import io.quorumkv.store.ReplicaProtocol.Ping;
import io.quorumkv.store.ReplicaProtocol.Read;
import io.quorumkv.store.ReplicaProtocol.ReadVersion;
import io.quorumkv.store.ReplicaProtocol.RecordHeld;
import io.quorumkv.store.ReplicaProtocol.Request;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.ReplicaProtocol.VersionHeld;
import io.quorumkv.store.Value;
import io.quorumkv.version.Version;
import io.quorumkv.wire.StreamFrames;
import io.quorumkv.wire.StreamFrames.StreamAnswer;
import io.quorumkv.wire.StreamFrames.StreamCall;
import io.quorumkv.wire.WireCodec;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.Before;
import org.junit.Test;

/**
 * Goal: the peer side of the replication stream answers every framed call exactly as the HTTP
 * endpoint would (same validation, same answers), matched by id, whatever way the frames are
 * cut into WebSocket messages; and a frame that is not a call ends the stream.
 */
public class ReplicationStreamRouteTest extends JUnitRouteTest {

  private static final long HLC = HybridLogicalClock.fromMillis(System.currentTimeMillis());

  private ReplicationStreamRoute stream;
  private Materializer materializer;

  @Before
  public void createStream() {
    RouteFixture fixture = new RouteFixture(system(), "", 0);
    stream = new ReplicationStreamRoute(
        new InternalEndpoint(fixture.store, fixture.admission, Adapter.toTyped(system()).scheduler(), fixture.settings,
            fixture.clock, fixture.fence, RouteFixture.REPLICA_ID, fixture.knownPeerIds, fixture.identity),
        1 << 20, 16);
    materializer = Materializer.matFromSystem(system());
  }

  /** Sends {@code messages} (then nothing, the stream kept open) and collects {@code count} answers by id. */
  private Map<Long, StreamAnswer> exchange(List<ByteString> messages, int count) throws Exception {
    Message reply = Source.from(messages)
        .map(bytes -> (Message) BinaryMessage.create(bytes))
        .concat(Source.never())
        .via(stream.flow(Sender.UNKNOWN))
        .runWith(Sink.head(), materializer)
        .toCompletableFuture().get(5, TimeUnit.SECONDS);
    List<ByteString> frames = reply.asBinaryMessage().getStreamedData()
        .via(StreamFrames.deframer(1 << 20))
        .take(count)
        .runWith(Sink.seq(), materializer)
        .toCompletableFuture().get(5, TimeUnit.SECONDS);
    Map<Long, StreamAnswer> answers = new HashMap<>();
    for (ByteString frame : frames) {
      StreamAnswer answer = WireCodec.decode(frame.toArray(), StreamAnswer.class);
      answers.put(answer.id(), answer);
    }
    return answers;
  }

  private static ByteString call(long id, Request request) {
    return StreamFrames.frame(new StreamCall(id, request));
  }

  private static final Stamp SENDER = new Stamp(9L, 0L);

  private static Apply apply(String key, long hlc, byte[] value) {
    return new Apply(key, Record.of(new Version(hlc, 5L), Value.wrap(value)), new Stamp(9L, hlc), Cause.WRITE);
  }

  private static Record recordOf(StreamAnswer answer) {
    return ((RecordHeld) answer.answer().orElseThrow()).record().orElse(null);
  }

  /**
   * Over TLS a stream ends when its peer's certificate expires, and after an hour at most: a
   * stream given a lifetime completes by itself (its peer then reconnects, with a handshake).
   */
  @Test
  public void aStreamWithALifetimeEndsByItself() throws Exception {
    java.util.concurrent.CompletionStage<akka.Done> ended = Source.<Message>never()
        .via(stream.flow(Sender.UNKNOWN, java.util.Optional.of(java.time.Duration.ofMillis(200))))
        .runWith(Sink.ignore(), materializer);
    ended.toCompletableFuture().get(30, TimeUnit.SECONDS); // done long before: the cap is for slow machines
    java.time.Instant now = java.time.Instant.now();
    assertEquals(java.time.Duration.ofMinutes(10),
        InternalRoutes.streamLifetime(now, now.plus(java.time.Duration.ofMinutes(10))));
    assertEquals(InternalRoutes.STREAM_LIFETIME_MAX,
        InternalRoutes.streamLifetime(now, now.plus(java.time.Duration.ofDays(30))));
  }

  @Test
  public void answersEveryCallByIdEvenWhenFramesAreCutAcrossMessages() throws Exception {
    ByteString apply = call(1, apply("k", HLC, "v".getBytes()));
    ByteString both = apply.concat(call(2, new ReadVersion("other", SENDER)));
    // Cut in the middle of the first frame: the byte stream, not the messages, carries the frames.
    Map<Long, StreamAnswer> answers = exchange(List.of(both.take(7), both.drop(7)), 2);
    assertEquals(200, answers.get(1L).status());
    assertEquals(HLC, ((Applied) answers.get(1L).answer().orElseThrow()).version().hlc());
    assertEquals(200, answers.get(2L).status());
    assertEquals(Version.ZERO, ((VersionHeld) answers.get(2L).answer().orElseThrow()).version());

    Map<Long, StreamAnswer> read = exchange(List.of(call(3, new Read("k", SENDER, Cause.READ))), 1);
    assertEquals(Value.ofUtf8("v"), recordOf(read.get(3L)).value());
  }

  @Test
  public void refusesBadCallsLikeTheHttpEndpointAndChangesNothing() throws Exception {
    long yearAhead = HybridLogicalClock.fromMillis(System.currentTimeMillis() + 365L * 86_400_000L);
    Map<Long, StreamAnswer> answers = exchange(List.of(
        call(1, new Read("", SENDER, Cause.READ)), // an empty key
        call(2, apply("k", yearAhead, "v".getBytes())), // from beyond max-clock-offset
        call(3, new Ping())), 3); // any request may travel on the stream
    assertEquals(400, answers.get(1L).status());
    assertTrue(answers.get(1L).error(), answers.get(1L).error().contains("malformed internal request"));
    assertEquals(400, answers.get(2L).status());
    assertEquals(200, answers.get(3L).status());
    assertNull(recordOf(exchange(List.of(call(4, new Read("k", SENDER, Cause.READ))), 1).get(4L)));
  }

  /**
   * Sends {@code bytes} as one message and collects the answers that come within a second (a
   * cap, not an assertion: only what was answered is judged).
   */
  private List<StreamAnswer> answersTo(ByteString bytes) throws Exception {
    List<StreamAnswer> answers = new java.util.ArrayList<>();
    Message reply;
    try {
      reply = Source.single((Message) BinaryMessage.create(bytes))
          .concat(Source.never())
          .via(stream.flow(Sender.UNKNOWN))
          .runWith(Sink.head(), materializer)
          .toCompletableFuture().get(5, TimeUnit.SECONDS);
    } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
      return answers; // ended (or said nothing) before a first answer
    }
    List<ByteString> frames;
    try {
      frames = reply.asBinaryMessage().getStreamedData()
          .via(StreamFrames.deframer(1 << 20))
          .takeWithin(java.time.Duration.ofSeconds(1))
          .runWith(Sink.seq(), materializer)
          .toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return answers; // the stream ended on the garbage
    }
    for (ByteString frame : frames) {
      answers.add(WireCodec.decode(frame.toArray(), StreamAnswer.class));
    }
    return answers;
  }

  @Test
  public void seededGarbageAndMutatedFramesChangeNothingButWhatTheySay() throws Exception {
    long seed = Long.getLong("quorumkv.test.seed", System.nanoTime());
    System.out.println("stream fuzz seed " + seed + " (replay with -Dquorumkv.test.seed=" + seed + ")");
    java.util.Random random = new java.util.Random(seed);
    Map<String, byte[]> written = new HashMap<>();
    for (int round = 0; round < Integer.getInteger("quorumkv.test.fuzz.stream-rounds", 60); round++) {
      String key = "s" + round;
      byte[] value = ("v" + round).getBytes(StandardCharsets.UTF_8);
      long hlc = HybridLogicalClock.fromMillis(System.currentTimeMillis()) + round;
      ByteString valid = call(1, apply(key, hlc, value));
      byte[] tail = switch (random.nextInt(4)) {
        case 0 -> {
          byte[] noise = new byte[1 + random.nextInt(64)];
          random.nextBytes(noise);
          yield noise;
        }
        case 1 -> new byte[] {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff, 1, 2}; // a 2 GiB frame
        default -> {
          byte[] mutated = call(2, apply("m" + round, hlc, value)).toArray();
          mutated[4 + random.nextInt(mutated.length - 4)] ^= (byte) (1 << random.nextInt(8));
          yield mutated;
        }
      };
      for (StreamAnswer answer : answersTo(valid.concat(ByteString.fromArray(tail)))) {
        assertTrue("status " + answer.status(), Set.of(200, 400, 404, 413, 503).contains(answer.status()));
        if (answer.id() == 1 && answer.status() == 200) {
          written.put(key, value);
        }
      }
    }
    assertTrue("valid frames were answered", !written.isEmpty());
    for (Map.Entry<String, byte[]> entry : written.entrySet()) {
      Record held = recordOf(exchange(List.of(call(9, new Read(entry.getKey(), SENDER, Cause.READ))), 1).get(9L));
      assertTrue(entry.getKey(), held != null && java.util.Arrays.equals(entry.getValue(), held.value().bytes()));
    }
  }

  @Test
  public void aFrameThatIsNotACallEndsTheStream() {
    ByteString garbage = StreamFrames.frame(Map.of("what", "ever"));
    // Failed, not merely silent (a silent stream would time out instead).
    assertThrows(ExecutionException.class, () -> exchange(List.of(garbage), 1));
  }
}
