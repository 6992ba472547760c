package io.quorumkv.transport;

import akka.Done;
import akka.actor.typed.ActorSystem;
import akka.http.javadsl.Http;
import akka.http.javadsl.model.headers.RawHeader;
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
import io.quorumkv.store.ReplicaProtocol.Request;
import io.quorumkv.wire.InternalHttp;
import io.quorumkv.wire.StreamFrames;
import io.quorumkv.wire.StreamFrames.StreamAnswer;
import io.quorumkv.wire.StreamFrames.StreamCall;
import io.quorumkv.wire.WireCodec;
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
 * The replication stream to one peer: one long-lived WebSocket ({@code /internal/v2/stream})
 * that carries the foreground requests (a client's version queries, reads, applies and
 * write-backs) as length-prefixed CBOR frames with correlation ids, instead of one HTTP request
 * each. Calls waiting while the connection is busy go out together (batching sized by what is
 * waiting, never by a timer), and answers come back the same way, in completion order.
 *
 * <p>Why: one HTTP request per replica-to-replica message cost more CPU than everything else a
 * quorum write does (the profile was flat inside akka-http's request handling); a stream pays
 * that once per connection.
 *
 * <p>The stream is opened lazily and reopened after it closes, at most once per
 * {@link #RECONNECT_INTERVAL}. {@link #call} answers {@code null} when no stream is open, and
 * the caller ({@link PeerClient}) sends that call over plain HTTP instead; a stream that closes
 * fails every call in flight on it at once (the coordinators count those as unavailable
 * answers, exactly like a refused HTTP connection).
 *
 * <p>A stream that stalls without closing (a half-open connection: a dropped conntrack entry,
 * a peer frozen mid-frame) is detected: while calls are outstanding and no frame has come for
 * the peer-request timeout, the stream is abandoned, its calls fail, and the next calls use
 * HTTP while a new stream opens. WebSocket keep-alive pings cannot hide it, since it watches
 * answers, not bytes.
 *
 * <p>Bounded: at most {@link #QUEUE_CAPACITY} calls and {@link #queuedBytesMax} bytes wait to
 * be sent, beyond which a call fails at once; the send side batches what waits into messages
 * of at most {@link #BATCH_BYTES_MAX} bytes and is backpressured by the connection, so a peer
 * that stops reading cannot grow this replica's memory. Thread-safe.
 */
final class PeerStream {

  private static final Logger LOG = LoggerFactory.getLogger(PeerStream.class);

  static final Duration RECONNECT_INTERVAL = Duration.ofMillis(250);
  /** Calls waiting to be sent; beyond it a call fails at once (the peer is not keeping up). */
  private static final int QUEUE_CAPACITY = 4096;
  /** Frames that wait together go out as one write of at most this many bytes. */
  static final long BATCH_BYTES_MAX = 256 * 1024;

  private final PeerAddress peer;
  private final ActorSystem<?> system;
  private final Materializer materializer;
  private final String secret;
  private final int frameBytesMax;
  private final long queuedBytesMax;
  private final Duration stallTimeout;
  private final java.util.Optional<akka.http.javadsl.HttpsConnectionContext> https; // empty: plain ws://
  private final AtomicReference<Connection> open = new AtomicReference<>();
  private final AtomicBoolean connecting = new AtomicBoolean();
  private volatile long lastAttemptNanos = System.nanoTime() - RECONNECT_INTERVAL.toNanos();

  /**
   * @param stallTimeout with calls outstanding and no frame for this long, the stream is
   *     abandoned (the peer-request timeout)
   */
  PeerStream(
      ActorSystem<?> system, PeerAddress peer, String secret, int frameBytesMax, Duration stallTimeout,
      java.util.Optional<akka.http.javadsl.HttpsConnectionContext> https) {
    this.system = system;
    this.https = https;
    this.peer = peer;
    this.secret = secret;
    this.frameBytesMax = frameBytesMax;
    this.queuedBytesMax = Math.max(16L << 20, 4L * frameBytesMax);
    this.stallTimeout = stallTimeout;
    this.materializer = Materializer.matFromSystem(system);
  }

  /**
   * Sends one call on the open stream; the stage completes with the answer's CBOR body, or
   * exceptionally (a {@link PeerClient.PeerCallFailed} for a refusal or a closed stream). Null
   * when no stream is open: one is being opened, and the caller should use HTTP meanwhile.
   * Never times out by itself: the caller bounds it (completing or cancelling the stage
   * forgets the call at once); a stream whose answers stop coming is abandoned (see above).
   */
  CompletableFuture<PeerClient.Received> call(Request request) {
    Connection connection = open.get();
    if (connection == null) {
      connectSoon();
      return null;
    }
    return connection.send(request);
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
        (https.isPresent() ? "wss://" : "ws://") + peer.address() + InternalHttp.STREAM_TARGET);
    if (!secret.isEmpty()) {
      request = request.addHeader(RawHeader.create(InternalHttp.SECRET_HEADER, secret));
    }
    // One endless binary message each way, carrying frames (see StreamFrames for why). Calls
    // ready while the connection is busy go out together, up to a bound; beyond it the queue
    // backs up and new calls fail at once.
    Flow<Message, Message, Pair<CompletionStage<Done>, BoundedSourceQueue<ByteString>>> flow =
        Flow.fromSinkAndSourceCoupledMat(
            StreamFrames.framesIn(frameBytesMax).toMat(Sink.foreach(connection::onFrame), Keep.right()),
            Source.<ByteString>queue(QUEUE_CAPACITY)
                .map(connection::taken)
                .via(StreamFrames.framesOut(BATCH_BYTES_MAX)),
            Keep.both());
    Pair<CompletionStage<WebSocketUpgradeResponse>, Pair<CompletionStage<Done>, BoundedSourceQueue<ByteString>>> started;
    try {
      started = https.isPresent()
          ? Http.get(system).singleWebSocketRequest(request, flow, https.get(), materializer)
          : Http.get(system).singleWebSocketRequest(request, flow, materializer);
    } catch (RuntimeException e) {
      connecting.set(false);
      return;
    }
    connection.queue = started.second().second();
    started.first().whenComplete((upgrade, failure) -> {
      if (failure == null && upgrade.response().status().intValue() == 101) {
        connection.watch();
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

  /** A call waiting for its answer, and the size of its frame (for the traffic metrics). */
  private record Pending(CompletableFuture<PeerClient.Received> answer, long bytesSent) {}

  /** One WebSocket connection and the calls waiting for their answers on it. */
  private final class Connection {
    private final AtomicLong nextId = new AtomicLong();
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong queuedBytes = new AtomicLong();
    private volatile BoundedSourceQueue<ByteString> queue;
    private volatile String closedReason;
    private volatile long lastFrameNanos = System.nanoTime();
    /**
     * When the oldest call still waiting for an answer was sent (0: none waits). A call its
     * caller gave up on still counts until a frame arrives: its answer never came.
     */
    private final AtomicLong awaitingSince = new AtomicLong();
    private volatile akka.actor.Cancellable watchdog;

    CompletableFuture<PeerClient.Received> send(Request request) {
      CompletableFuture<PeerClient.Received> answer = new CompletableFuture<>();
      long id = nextId.incrementAndGet();
      ByteString frame = StreamFrames.frame(new StreamCall(id, request));
      long bytes = frame.size();
      if (queuedBytes.addAndGet(bytes) > queuedBytesMax) {
        queuedBytes.addAndGet(-bytes);
        answer.completeExceptionally(new PeerClient.PeerCallFailed("more than " + queuedBytesMax
            + " bytes wait to be sent to peer " + peer.name() + ": it is not keeping up"));
        return answer;
      }
      long now = System.nanoTime();
      pending.put(id, new Pending(answer, bytes));
      awaitingSince.compareAndSet(0, now);
      // However the call ends (answered, failed, or given up by the caller), it is forgotten.
      answer.whenComplete((result, failure) -> pending.remove(id));
      QueueOfferResult offered = queue.offer(frame);
      if (offered != QueueOfferResult.enqueued()) {
        queuedBytes.addAndGet(-bytes);
        if (offered != QueueOfferResult.dropped()) {
          open.compareAndSet(this, null); // the stream is gone: the next call opens a new one
        }
        answer.completeExceptionally(new PeerClient.PeerCallFailed(
            "the stream to peer " + peer.name() + " does not take calls: " + offered));
      } else if (closedReason != null) {
        fail(id, closedReason); // closed between the check in call() and now
      }
      return answer;
    }

    /** A call leaves the queue for the connection: its bytes no longer count as waiting. */
    ByteString taken(ByteString frame) {
      queuedBytes.addAndGet(-frame.size());
      return frame;
    }

    /** Checks for a stall a few times per timeout while the stream is open. */
    void watch() {
      Duration every = stallTimeout.dividedBy(4).compareTo(Duration.ofMillis(10)) < 0
          ? Duration.ofMillis(10) : stallTimeout.dividedBy(4);
      watchdog = system.scheduler().scheduleAtFixedRate(every, every, this::checkStalled, system.executionContext());
    }

    private void checkStalled() {
      long now = System.nanoTime();
      long timeout = stallTimeout.toNanos();
      long waiting = awaitingSince.get();
      if (closedReason != null || waiting == 0 || now - waiting <= timeout || now - lastFrameNanos <= timeout) {
        return;
      }
      String reason = "the stream to peer " + peer.name() + " stalled: no answer for " + stallTimeout.toMillis()
          + " ms with calls outstanding (" + pending.size() + " still waiting)";
      if (open.compareAndSet(this, null)) {
        LOG.warn("{}; abandoning it (calls go over HTTP until a new stream opens)", reason);
      }
      closed(reason);
    }

    void onFrame(ByteString frame) throws java.io.IOException {
      long now = System.nanoTime();
      lastFrameNanos = now;
      StreamAnswer answer = WireCodec.decode(frame.toArray(), StreamAnswer.class);
      Pending waiting = pending.remove(answer.id());
      // Answers flow: what still waits is timed from now.
      awaitingSince.set(pending.isEmpty() ? 0 : now);
      if (waiting == null) {
        return; // not ours, or given up by its caller: ignored
      }
      if (answer.answer().isPresent()) {
        waiting.answer().complete(new PeerClient.Received(answer.answer().get(), waiting.bytesSent(), frame.size()));
      } else {
        waiting.answer().completeExceptionally(new PeerClient.PeerCallFailed("peer " + peer.name() + " answered "
            + answer.status() + ": " + answer.error()));
      }
    }

    void closed(String reason) {
      if (closedReason == null) {
        closedReason = reason;
      }
      akka.actor.Cancellable check = watchdog;
      if (check != null) {
        check.cancel();
      }
      queue.fail(new IllegalStateException(reason)); // also tears the connection down
      for (Long id : List.copyOf(pending.keySet())) {
        fail(id, reason);
      }
    }

    private void fail(long id, String reason) {
      Pending waiting = pending.remove(id);
      if (waiting != null) {
        waiting.answer().completeExceptionally(new PeerClient.PeerCallFailed(reason));
      }
    }
  }
}
