package io.quorumkv.replication;

import akka.Done;
import akka.actor.typed.ActorSystem;
import akka.http.javadsl.Http;
import akka.http.javadsl.model.headers.RawHeader;
import akka.http.javadsl.model.ws.BinaryMessage;
import akka.http.javadsl.model.ws.Message;
import akka.http.javadsl.model.ws.WebSocketRequest;
import akka.http.javadsl.model.ws.WebSocketUpgradeResponse;
import akka.japi.Pair;
import akka.stream.BoundedSourceQueue;
import akka.stream.Materializer;
import akka.stream.QueueOfferResult;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.util.ByteString;
import io.quorumkv.config.PeerAddress;
import io.quorumkv.replication.InternalWire.StreamAnswer;
import io.quorumkv.replication.InternalWire.StreamCall;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The replication stream to one peer: one long-lived WebSocket ({@code /internal/v1/stream})
 * that carries the per-key calls (version queries, reads, write applies) as length-prefixed
 * CBOR frames with correlation ids, instead of one HTTP request each. Calls waiting while the
 * connection is busy go out together (batching sized by what is waiting, never by a timer),
 * and answers come back the same way, in completion order.
 *
 * <p>Why: one HTTP request per replica-to-replica message cost more CPU than everything else a
 * quorum write does (the profile was flat inside akka-http's request handling); a stream pays
 * that once per connection.
 *
 * <p>The stream is opened lazily and reopened after it closes, at most once per
 * {@link #RECONNECT_INTERVAL}. {@link #call} answers {@code null} when no stream is open, and
 * the caller ({@link PeerClient}) sends that call over plain HTTP instead; a stream that closes
 * fails every call in flight on it at once (the coordinators count those as unavailable
 * answers, exactly like a refused HTTP connection). Thread-safe.
 */
final class PeerStream {

  private static final Logger LOG = LoggerFactory.getLogger(PeerStream.class);

  static final Duration RECONNECT_INTERVAL = Duration.ofMillis(250);
  /** Calls waiting to be sent; beyond it a call fails at once (the peer is not keeping up). */
  private static final int QUEUE_CAPACITY = 4096;

  private final PeerAddress peer;
  private final ActorSystem<?> system;
  private final Materializer materializer;
  private final String secret;
  private final int frameBytesMax;
  private final AtomicReference<Connection> open = new AtomicReference<>();
  private final AtomicBoolean connecting = new AtomicBoolean();
  private volatile long lastAttemptNanos = System.nanoTime() - RECONNECT_INTERVAL.toNanos();

  PeerStream(ActorSystem<?> system, PeerAddress peer, String secret, int frameBytesMax) {
    this.system = system;
    this.peer = peer;
    this.secret = secret;
    this.frameBytesMax = frameBytesMax;
    this.materializer = Materializer.matFromSystem(system);
  }

  /**
   * Sends one call on the open stream; the stage completes with the answer's CBOR body, or
   * exceptionally (a {@link PeerClient.PeerCallFailed} for a refusal or a closed stream). Null
   * when no stream is open: one is being opened, and the caller should use HTTP meanwhile.
   * Never times out by itself: the caller bounds it, and a call whose answer never comes stays
   * pending until the stream closes, as a call to a peer that stopped answering stays in
   * flight, so the caller's in-flight bound still sees it.
   */
  CompletableFuture<byte[]> call(String endpoint, String cause, byte[] body) {
    Connection connection = open.get();
    if (connection == null) {
      connectSoon();
      return null;
    }
    return connection.send(endpoint, cause, body);
  }

  boolean isOpen() {
    return open.get() != null;
  }

  private void connectSoon() {
    long now = System.nanoTime();
    if (now - lastAttemptNanos < RECONNECT_INTERVAL.toNanos() || !connecting.compareAndSet(false, true)) {
      return;
    }
    lastAttemptNanos = now;
    Connection connection = new Connection();
    WebSocketRequest request = WebSocketRequest.create(
        "ws://" + peer.address() + "/internal/v1/" + InternalWire.STREAM_PATH);
    if (!secret.isEmpty()) {
      request = request.addHeader(RawHeader.create(InternalWire.SECRET_HEADER, secret));
    }
    // One endless binary message each way, carrying frames (see ReplicationStreamRoute for why).
    Flow<Message, Message, Pair<CompletionStage<Done>, BoundedSourceQueue<StreamCall>>> flow =
        Flow.fromSinkAndSourceCoupledMat(
            Flow.<Message>create()
                .flatMapConcat(PeerStream::dataOf)
                .via(InternalWire.deframer(frameBytesMax))
                .toMat(Sink.foreach(connection::onFrame), Keep.right()),
            Source.<StreamCall>queue(QUEUE_CAPACITY)
                .map(InternalWire::frame)
                // Calls that are ready while the connection is busy go out together.
                .conflate(ByteString::concat)
                .prefixAndTail(0)
                .map(endless -> (Message) BinaryMessage.create(endless.second()))
                // The message stream itself must not complete: that would close the connection.
                .concat(Source.never()),
            Keep.both());
    Pair<CompletionStage<WebSocketUpgradeResponse>, Pair<CompletionStage<Done>, BoundedSourceQueue<StreamCall>>> started;
    try {
      started = Http.get(system).singleWebSocketRequest(request, flow, materializer);
    } catch (RuntimeException e) {
      connecting.set(false);
      return;
    }
    connection.queue = started.second().second();
    started.first().whenComplete((upgrade, failure) -> {
      if (failure == null && upgrade.response().status().intValue() == 101) {
        open.set(connection);
        if (connection.closedReason != null) { // it closed before it was even opened
          open.compareAndSet(connection, null);
        } else {
          LOG.info("replication stream to peer {} is open", peer.name());
        }
      } else {
        LOG.debug("replication stream to peer {} not opened: {}", peer.name(),
            failure != null ? failure.getMessage() : "answered " + upgrade.response().status());
        connection.queue.complete();
      }
      connecting.set(false);
    });
    started.second().first().whenComplete((done, failure) -> {
      if (open.compareAndSet(connection, null)) {
        LOG.info("replication stream to peer {} closed{}", peer.name(), failure == null ? "" : ": " + failure.getMessage());
      }
      connection.closed(failure == null ? "the stream to peer " + peer.name() + " closed"
          : "the stream to peer " + peer.name() + " failed: " + failure.getMessage());
    });
  }

  private static Source<ByteString, ?> dataOf(Message message) {
    if (message.isText()) {
      return Source.failed(new IllegalStateException("the replication stream is binary"));
    }
    return message.asBinaryMessage().getStreamedData();
  }

  /** One WebSocket connection and the calls waiting for their answers on it. */
  private final class Connection {
    private final AtomicLong nextId = new AtomicLong();
    private final Map<Long, CompletableFuture<byte[]>> pending = new ConcurrentHashMap<>();
    private volatile BoundedSourceQueue<StreamCall> queue;
    private volatile String closedReason;

    CompletableFuture<byte[]> send(String endpoint, String cause, byte[] body) {
      long id = nextId.incrementAndGet();
      CompletableFuture<byte[]> answer = new CompletableFuture<>();
      pending.put(id, answer);
      QueueOfferResult offered = queue.offer(new StreamCall(id, endpoint, cause, body));
      if (offered != QueueOfferResult.enqueued()) {
        if (offered != QueueOfferResult.dropped()) {
          open.compareAndSet(this, null); // the stream is gone: the next call opens a new one
        }
        pending.remove(id);
        answer.completeExceptionally(new PeerClient.PeerCallFailed(
            "the stream to peer " + peer.name() + " does not take calls: " + offered));
      } else if (closedReason != null) {
        fail(id, closedReason); // closed between the check in call() and now
      }
      return answer;
    }

    void onFrame(ByteString frame) throws java.io.IOException {
      StreamAnswer answer = InternalWire.decode(frame.toArray(), StreamAnswer.class);
      CompletableFuture<byte[]> waiting = pending.remove(answer.id());
      if (waiting == null) {
        return; // not ours: ignored
      }
      if (answer.status() == 200) {
        waiting.complete(answer.body());
      } else {
        waiting.completeExceptionally(new PeerClient.PeerCallFailed("peer " + peer.name() + " answered "
            + answer.status() + ": " + new String(answer.body(), StandardCharsets.UTF_8)));
      }
    }

    void closed(String reason) {
      closedReason = reason;
      queue.fail(new IllegalStateException(reason));
      for (Long id : List.copyOf(pending.keySet())) {
        fail(id, reason);
      }
    }

    private void fail(long id, String reason) {
      CompletableFuture<byte[]> waiting = pending.remove(id);
      if (waiting != null) {
        waiting.completeExceptionally(new PeerClient.PeerCallFailed(reason));
      }
    }
  }
}
