package io.quorumkv.http;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
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
import io.quorumkv.replication.InternalWire;
import io.quorumkv.replication.InternalWire.ApplyCall;
import io.quorumkv.replication.InternalWire.KeyCall;
import io.quorumkv.replication.InternalWire.RecordReply;
import io.quorumkv.replication.InternalWire.StreamAnswer;
import io.quorumkv.replication.InternalWire.StreamCall;
import io.quorumkv.replication.InternalWire.VersionReply;
import io.quorumkv.version.HybridLogicalClock;
import java.nio.charset.StandardCharsets;
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
        new InternalCalls(fixture.store, fixture.admission, Adapter.toTyped(system()).scheduler(), fixture.settings,
            fixture.clock,
            fixture.fence),
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
        .via(InternalWire.deframer(1 << 20))
        .take(count)
        .runWith(Sink.seq(), materializer)
        .toCompletableFuture().get(5, TimeUnit.SECONDS);
    Map<Long, StreamAnswer> answers = new HashMap<>();
    for (ByteString frame : frames) {
      StreamAnswer answer = InternalWire.decode(frame.toArray(), StreamAnswer.class);
      answers.put(answer.id(), answer);
    }
    return answers;
  }

  private static ByteString call(long id, String endpoint, String cause, Object body) {
    return InternalWire.frame(new StreamCall(id, endpoint, cause, InternalWire.encode(body)));
  }

  @Test
  public void answersEveryCallByIdEvenWhenFramesAreCutAcrossMessages() throws Exception {
    ByteString apply = call(1, InternalWire.APPLY_PATH, "write", new ApplyCall("k", HLC, 5L, false, "v".getBytes(), 9L, HLC));
    ByteString both = apply.concat(call(2, InternalWire.READ_VERSION_PATH, "", new KeyCall("other", 9L, 0L)));
    // Cut in the middle of the first frame: the byte stream, not the messages, carries the frames.
    Map<Long, StreamAnswer> answers = exchange(List.of(both.take(7), both.drop(7)), 2);
    assertEquals(200, answers.get(1L).status());
    assertEquals(HLC, InternalWire.decode(answers.get(1L).body(), VersionReply.class).hlc());
    assertEquals(200, answers.get(2L).status());
    assertEquals(0L, InternalWire.decode(answers.get(2L).body(), VersionReply.class).hlc());

    Map<Long, StreamAnswer> read = exchange(List.of(call(3, InternalWire.READ_PATH, "", new KeyCall("k", 9L, 0L))), 1);
    RecordReply record = InternalWire.decode(read.get(3L).body(), RecordReply.class);
    assertTrue(record.found());
    assertEquals("v", new String(record.value(), StandardCharsets.UTF_8));
  }

  @Test
  public void refusesBadCallsLikeTheHttpEndpointAndChangesNothing() throws Exception {
    Map<Long, StreamAnswer> answers = exchange(List.of(
        call(1, InternalWire.READ_PATH, "", new KeyCall("", 9L, 0L)), // an empty key
        InternalWire.frame(new StreamCall(2, InternalWire.APPLY_PATH, "write", new byte[] {(byte) 0xff, 1})),
        call(3, InternalWire.PING_PATH, "", new KeyCall("k", 9L, 0L))), 3); // not a stream endpoint
    assertEquals(400, answers.get(1L).status());
    assertEquals(400, answers.get(2L).status());
    assertTrue(new String(answers.get(2L).body(), StandardCharsets.UTF_8).contains("malformed internal request"));
    assertEquals(404, answers.get(3L).status());
    RecordReply record = InternalWire.decode(
        exchange(List.of(call(4, InternalWire.READ_PATH, "", new KeyCall("k", 9L, 0L))), 1).get(4L).body(),
        RecordReply.class);
    assertFalse(record.found());
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
          .via(InternalWire.deframer(1 << 20))
          .takeWithin(java.time.Duration.ofSeconds(1))
          .runWith(Sink.seq(), materializer)
          .toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return answers; // the stream ended on the garbage
    }
    for (ByteString frame : frames) {
      answers.add(InternalWire.decode(frame.toArray(), StreamAnswer.class));
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
      ByteString valid = call(1, InternalWire.APPLY_PATH, "write", new ApplyCall(key, hlc, 5L, false, value, 9L, hlc));
      byte[] tail = switch (random.nextInt(4)) {
        case 0 -> {
          byte[] noise = new byte[1 + random.nextInt(64)];
          random.nextBytes(noise);
          yield noise;
        }
        case 1 -> new byte[] {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff, 1, 2}; // a 2 GiB frame
        default -> {
          byte[] mutated = call(2, InternalWire.APPLY_PATH, "write",
              new ApplyCall("m" + round, hlc, 5L, false, value, 9L, hlc)).toArray();
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
      RecordReply held = InternalWire.decode(exchange(List.of(call(9, InternalWire.READ_PATH, "",
          new KeyCall(entry.getKey(), 9L, 0L))), 1).get(9L).body(), RecordReply.class);
      assertTrue(entry.getKey(), held.found() && java.util.Arrays.equals(entry.getValue(), held.value()));
    }
  }

  @Test
  public void aFrameThatIsNotACallEndsTheStream() {
    ByteString garbage = InternalWire.frame(Map.of("what", "ever"));
    // Failed, not merely silent (a silent stream would time out instead).
    assertThrows(ExecutionException.class, () -> exchange(List.of(garbage), 1));
  }
}
