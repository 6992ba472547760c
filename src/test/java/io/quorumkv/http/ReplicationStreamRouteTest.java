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
        new InternalCalls(fixture.store, Adapter.toTyped(system()).scheduler(), fixture.settings), 1 << 20, 16);
    materializer = Materializer.matFromSystem(system());
  }

  /** Sends {@code messages} (then nothing, the stream kept open) and collects {@code count} answers by id. */
  private Map<Long, StreamAnswer> exchange(List<ByteString> messages, int count) throws Exception {
    Message reply = Source.from(messages)
        .map(bytes -> (Message) BinaryMessage.create(bytes))
        .concat(Source.never())
        .via(stream.flow())
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

  @Test
  public void aFrameThatIsNotACallEndsTheStream() {
    ByteString garbage = InternalWire.frame(Map.of("what", "ever"));
    // Failed, not merely silent (a silent stream would time out instead).
    assertThrows(ExecutionException.class, () -> exchange(List.of(garbage), 1));
  }
}
