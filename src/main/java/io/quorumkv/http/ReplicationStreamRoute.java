package io.quorumkv.http;

import akka.NotUsed;
import akka.http.javadsl.model.ws.Message;
import akka.http.javadsl.server.Directives;
import akka.http.javadsl.server.Route;
import akka.stream.javadsl.Flow;
import io.quorumkv.wire.StreamFrames;
import io.quorumkv.wire.StreamFrames.StreamAnswer;
import io.quorumkv.wire.StreamFrames.StreamCall;
import io.quorumkv.wire.WireCodec;
import java.util.concurrent.CompletionStage;

/**
 * The peer side of the replication stream ({@code GET /internal/v2/stream}, a WebSocket; framing
 * in {@link StreamFrames}). Each call is answered by {@link InternalEndpoint}, exactly as the
 * HTTP endpoint would answer it, and the answers go back in completion order (the sender matches
 * them by id), so a slow call never holds up a fast one.
 *
 * <p>A frame that is not a well-formed call ends the stream: the sender sees its connection
 * close, fails what it had in flight and reconnects.
 */
final class ReplicationStreamRoute {

  private static final long ANSWER_BATCH_BYTES_MAX = 256 * 1024;

  private final InternalEndpoint endpoint;
  private final int frameBytesMax;
  private final int callsInFlightMax;

  ReplicationStreamRoute(InternalEndpoint endpoint, int frameBytesMax, int callsInFlightMax) {
    this.endpoint = endpoint;
    this.frameBytesMax = frameBytesMax;
    this.callsInFlightMax = callsInFlightMax;
  }

  /**
   * @param from who opened the stream
   * @param lifetime when present, the stream is closed after this long (its peer reconnects)
   */
  Route route(Sender from, java.util.Optional<java.time.Duration> lifetime) {
    return Directives.handleWebSocketMessages(flow(from, lifetime));
  }

  /** {@link #flow(Sender)}, ended (the peer reconnects) after {@code lifetime} when present. */
  Flow<Message, Message, NotUsed> flow(Sender from, java.util.Optional<java.time.Duration> lifetime) {
    return lifetime.map(limit -> flow(from).takeWithin(limit)).orElse(flow(from));
  }

  Flow<Message, Message, NotUsed> flow(Sender from) {
    return StreamFrames.framesIn(frameBytesMax)
        .map(frame -> WireCodec.decode(frame.toArray(), StreamCall.class))
        .mapAsyncUnordered(callsInFlightMax, call -> answer(call, from))
        .map(StreamFrames::frame)
        // A peer that stops reading backpressures the calls (at most callsInFlightMax answered
        // at once), then its socket.
        .via(StreamFrames.framesOut(ANSWER_BATCH_BYTES_MAX));
  }

  private CompletionStage<StreamAnswer> answer(StreamCall call, Sender from) {
    return endpoint.handle(call.request(), from).thenApply(outcome -> {
      if (outcome instanceof InternalEndpoint.Refused refused) {
        return StreamAnswer.refused(call.id(), refused.status(), refused.reason());
      }
      return StreamAnswer.answered(call.id(), ((InternalEndpoint.Answered) outcome).answer());
    });
  }
}
