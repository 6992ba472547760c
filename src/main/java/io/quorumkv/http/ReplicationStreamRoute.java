package io.quorumkv.http;

import akka.NotUsed;
import akka.http.javadsl.model.ws.BinaryMessage;
import akka.http.javadsl.model.ws.Message;
import akka.http.javadsl.server.Directives;
import akka.http.javadsl.server.Route;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Source;
import akka.util.ByteString;
import io.quorumkv.replication.InternalWire;
import io.quorumkv.replication.InternalWire.StreamAnswer;
import io.quorumkv.replication.InternalWire.StreamCall;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The peer side of the replication stream ({@code GET /internal/v1/stream}, a WebSocket). The
 * sender's calls arrive as frames in one endless binary message; each is answered by
 * {@link InternalCalls}, exactly as the HTTP endpoint would answer it, and the answers go back
 * as frames in one endless message too, in completion order (the sender matches them by id),
 * so a slow call never holds up a fast one. Frames that are ready while the connection is
 * busy go out together.
 *
 * <p>Why one endless message and not a message per call: akka-http starts a sub-stream for
 * every WebSocket message, which cost more than a whole HTTP request (measured: a message per
 * call halved throughput); frames inside one message cost a few stream stages each.
 *
 * <p>A frame that is not a well-formed call ends the stream: the sender sees its connection
 * close, fails what it had in flight and reconnects.
 */
final class ReplicationStreamRoute {

  private static final long ANSWER_BATCH_BYTES_MAX = 256 * 1024;

  private final InternalCalls calls;
  private final int frameBytesMax;
  private final int callsInFlightMax;

  ReplicationStreamRoute(InternalCalls calls, int frameBytesMax, int callsInFlightMax) {
    this.calls = calls;
    this.frameBytesMax = frameBytesMax;
    this.callsInFlightMax = callsInFlightMax;
  }

  /** @param from who opened the stream */
  Route route(Sender from) {
    return Directives.handleWebSocketMessages(flow(from));
  }

  Flow<Message, Message, NotUsed> flow(Sender from) {
    return Flow.<Message>create()
        .flatMapConcat(ReplicationStreamRoute::dataOf)
        .via(InternalWire.deframer(frameBytesMax))
        .map(frame -> InternalWire.decode(frame.toArray(), StreamCall.class))
        .mapAsyncUnordered(callsInFlightMax, call -> answer(call, from))
        .map(InternalWire::frame)
        // Answers ready together go out together, up to a bound: a peer that stops reading
        // backpressures the calls (at most callsInFlightMax answered at once), then its socket.
        .batchWeighted(ANSWER_BATCH_BYTES_MAX, frame -> (long) frame.size(), frame -> frame, ByteString::concat)
        .prefixAndTail(0)
        .map(endless -> (Message) BinaryMessage.create(endless.second()))
        // The message stream itself must not complete: that would close the connection.
        .concat(Source.never());
  }

  static Source<ByteString, ?> dataOf(Message message) {
    if (message.isText()) {
      return Source.failed(new IllegalArgumentException("the replication stream is binary"));
    }
    return message.asBinaryMessage().getStreamedData();
  }

  private CompletionStage<StreamAnswer> answer(StreamCall call, Sender from) {
    if (!InternalCalls.handles(call.endpoint())) {
      return CompletableFuture.completedFuture(new StreamAnswer(call.id(), 404,
          ("no stream endpoint " + call.endpoint()).getBytes(StandardCharsets.UTF_8)));
    }
    return calls.handle(call.endpoint(), call.cause(), call.body(), from).thenApply(outcome -> {
      if (outcome instanceof InternalCalls.Refused refused) {
        return new StreamAnswer(call.id(), refused.status(), refused.reason().getBytes(StandardCharsets.UTF_8));
      }
      return new StreamAnswer(call.id(), 200, ((InternalCalls.Answered) outcome).cbor());
    });
  }
}
