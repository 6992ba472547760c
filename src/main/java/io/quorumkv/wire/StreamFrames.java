package io.quorumkv.wire;

import akka.NotUsed;
import akka.http.javadsl.model.ws.BinaryMessage;
import akka.http.javadsl.model.ws.Message;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Framing;
import akka.stream.javadsl.Source;
import akka.util.ByteString;
import io.quorumkv.store.ReplicaProtocol.Answer;
import io.quorumkv.store.ReplicaProtocol.Request;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;
import java.util.Optional;

/**
 * The replication stream's framing, for both of its ends: one endless binary WebSocket message
 * each way, carrying frames of a 4-byte big-endian length and that much CBOR, one
 * {@link StreamCall} (to the peer) or {@link StreamAnswer} (back) each.
 *
 * <p>Why one endless message and not a message per call: akka-http starts a sub-stream for every
 * WebSocket message, which cost more than a whole HTTP request (a message per call halved
 * throughput); frames inside one message cost a few stream stages each.
 */
public final class StreamFrames {

  private StreamFrames() {}

  /** One call on the stream; the sender picks {@code id}, and the answer carries it back. */
  public record StreamCall(long id, Request request) {
    public StreamCall {
      Objects.requireNonNull(request, "request");
    }
  }

  /**
   * The answer to a {@link StreamCall}: status 200 and the answer, or the HTTP status the
   * endpoint would have given and its reason ({@code error}, empty for 200).
   */
  public record StreamAnswer(long id, int status, Optional<Answer> answer, String error) {
    public StreamAnswer {
      answer = answer == null ? Optional.empty() : answer;
      Objects.requireNonNull(error, "error");
      if ((status == 200) != answer.isPresent()) {
        throw new IllegalArgumentException("a stream answer carries an answer exactly when its status is 200");
      }
    }

    public static StreamAnswer answered(long id, Answer answer) {
      return new StreamAnswer(id, 200, Optional.of(answer), "");
    }

    public static StreamAnswer refused(long id, int status, String reason) {
      return new StreamAnswer(id, status, Optional.empty(), reason);
    }
  }

  /** One frame: the length, then the CBOR of {@code message}. */
  public static ByteString frame(Object message) {
    byte[] body = WireCodec.encode(message);
    return ByteString.fromArray(ByteBuffer.allocate(4).putInt(body.length).array()).concat(ByteString.fromArray(body));
  }

  /**
   * Incoming WebSocket messages to frames (without their length). A text message, or a frame
   * longer than {@code frameBytesMax}, fails the stream.
   */
  public static Flow<Message, ByteString, NotUsed> framesIn(int frameBytesMax) {
    return Flow.<Message>create()
        .flatMapConcat(StreamFrames::dataOf)
        .via(deframer(frameBytesMax));
  }

  /** The stream's bytes to frames (without their length); a frame longer than {@code frameBytesMax} fails it. */
  public static Flow<ByteString, ByteString, NotUsed> deframer(int frameBytesMax) {
    return Framing.lengthField(4, 0, frameBytesMax + 4, ByteOrder.BIG_ENDIAN).map(frame -> frame.drop(4));
  }

  /**
   * Frames to the one endless outgoing message. Frames ready while the connection is busy go out
   * together, up to {@code batchBytesMax}; beyond it the upstream is backpressured, so a peer that
   * stops reading cannot grow this replica's memory.
   */
  public static Flow<ByteString, Message, NotUsed> framesOut(long batchBytesMax) {
    return Flow.<ByteString>create()
        .batchWeighted(batchBytesMax, frame -> (long) frame.size(), frame -> frame, ByteString::concat)
        .prefixAndTail(0)
        .map(endless -> (Message) BinaryMessage.create(endless.second()))
        // The message stream itself must not complete: that would close the connection.
        .concat(Source.never());
  }

  private static Source<ByteString, ?> dataOf(Message message) {
    if (message.isText()) {
      return Source.failed(new IllegalArgumentException("the replication stream is binary"));
    }
    return message.asBinaryMessage().getStreamedData();
  }
}
