package io.quorumkv.transport;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.ConnectionContext;
import akka.http.javadsl.Http;
import akka.http.javadsl.HttpsConnectionContext;
import akka.http.javadsl.model.ContentType;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.headers.RawHeader;
import akka.stream.Materializer;
import akka.util.ByteString;
import io.quorumkv.config.PeerAddress;
import io.quorumkv.store.ReplicaProtocol.Answer;
import io.quorumkv.store.ReplicaProtocol.Lane;
import io.quorumkv.store.ReplicaProtocol.Request;
import io.quorumkv.store.ReplicaProtocol.Unavailable;
import io.quorumkv.wire.InternalHttp;
import io.quorumkv.wire.WireCodec;
import io.quorumkv.tls.TlsContexts;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sends the replica protocol to one peer: over HTTP (akka-http's pooled client: connections to the
 * peer are reused, and the pool bounds how many requests may wait), and the foreground
 * requests over the peer's replication stream ({@link PeerStream}) while it is open. Every call
 * has a deadline and counts against one in-flight bound, whichever way it travels. Not an
 * actor: {@link RemoteReplica}, the peer monitor and anti-entropy share it.
 *
 * <p>With TLS, both ways are encrypted (HTTPS and WSS): the peer's certificate must be signed by
 * a CA the context trusts and name the peer's host as configured ({@code PEER_*_HOST}), and the
 * context presents this replica's own certificate when it has one (mutual TLS).
 */
public final class PeerClient {

  private static final ContentType CBOR = ContentTypes.parse(WireCodec.CONTENT_TYPE);

  private final PeerAddress peer;
  private final Http http;
  private final Materializer materializer;
  private final Duration timeout;
  private final String secret;
  private final int inFlightMax;
  /** Calls outstanding: counted until answered, failed or past their deadline. */
  private final AtomicInteger inFlight = new AtomicInteger();
  private final PeerTraffic traffic;
  private final PeerStream stream; // null: the replication stream is off
  /** Empty: plain HTTP. One context for every call, so akka-http's pool to the peer is shared. */
  private final Optional<HttpsConnectionContext> https;

  /** @param tls empty: plain HTTP and WebSocket; else HTTPS and WSS with this context */
  public PeerClient(
      ActorSystem<?> system, PeerAddress peer, Duration timeout, String secret, int inFlightMax, boolean streamed,
      int frameBytesMax, PeerTraffic traffic, Optional<javax.net.ssl.SSLContext> tls) {
    this.peer = peer;
    // Host-name verification against the peer's configured host on every connection.
    this.https = tls.map(context -> ConnectionContext.httpsClient(
        (host, port) -> TlsContexts.restrictToReplicaTls(TlsContexts.clientEngine(context, host, port))));
    this.stream = streamed ? new PeerStream(system, peer, secret, frameBytesMax, timeout, https) : null;
    this.traffic = traffic;
    this.http = Http.get(system);
    this.materializer = Materializer.matFromSystem(system);
    this.timeout = timeout;
    this.secret = secret;
    this.inFlightMax = inFlightMax;
  }

  public PeerAddress peer() {
    return peer;
  }

  /** Whether the replication stream to this peer is open now (false when it is off). */
  public boolean streamOpen() {
    return stream != null && stream.isOpen();
  }

  /**
   * Sends one request to the peer: on the replication stream when it is on and open and the
   * request's lane is foreground, over HTTP ({@code POST /internal/v2/call}) otherwise. Completes
   * with the peer's answer, or exceptionally (a {@link PeerCallFailed} for a refusal or a
   * malformed answer, a timeout, a refused connection).
   */
  public CompletionStage<Answer> call(Request request) {
    String type = WireCodec.typeName(request.getClass());
    if (inFlight.incrementAndGet() > inFlightMax) {
      inFlight.decrementAndGet();
      traffic.called(peer.name(), type, false, 0, 0);
      return CompletableFuture.failedFuture(new PeerCallFailed(
          "more than " + inFlightMax + " requests to peer " + peer.name() + " are outstanding"));
    }
    boolean streamed = stream != null && request.lane() == Lane.FOREGROUND;
    CompletableFuture<Received> received = streamed ? stream.call(request) : null;
    if (received == null) {
      received = httpCall(request);
    }
    // The deadline completes the call itself, so a call that timed out frees its slot at once
    // (and is forgotten by the stream). An HTTP request the pool still holds past its deadline
    // stays bounded by the pool's own max-open-requests, beyond which new requests fail at once.
    CompletableFuture<Received> bounded = received.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
    bounded.whenComplete((answer, failure) -> {
      inFlight.decrementAndGet();
      traffic.called(peer.name(), type, failure == null, answer == null ? 0 : answer.bytesSent(),
          answer == null ? 0 : answer.bytesReceived());
    });
    return bounded.thenApply(Received::answer);
  }

  /** An answer, and the bytes its call took each way. */
  record Received(Answer answer, long bytesSent, long bytesReceived) {}

  /** {@link #call}, failing unless the answer is an {@code expected} (or {@link Unavailable}: a failure too). */
  public <T extends Answer> CompletionStage<T> call(Request request, Class<T> expected) {
    return call(request).thenApply(answer -> {
      if (expected.isInstance(answer)) {
        return expected.cast(answer);
      }
      if (answer instanceof Unavailable unavailable) {
        throw new PeerCallFailed("peer " + peer.name() + " is unavailable: " + unavailable.reason());
      }
      throw new PeerCallFailed("peer " + peer.name() + " answered a " + WireCodec.typeName(answer.getClass())
          + " to a " + WireCodec.typeName(request.getClass()));
    });
  }

  private CompletableFuture<Received> httpCall(Request request) {
    byte[] body = WireCodec.encode(request);
    // The cause rides in the query string, where a proxy can see it without decoding the body.
    HttpRequest http = HttpRequest.POST((https.isPresent() ? "https://" : "http://") + peer.address()
            + InternalHttp.CALL_TARGET + "?"
            + InternalHttp.CAUSE_PARAMETER + "=" + request.cause().label())
        .withEntity(CBOR, body);
    if (!secret.isEmpty()) {
      http = http.addHeader(RawHeader.create(InternalHttp.SECRET_HEADER, secret));
    }
    CompletionStage<HttpResponse> response = https.isPresent()
        ? this.http.singleRequest(http, https.get()) : this.http.singleRequest(http);
    return response.thenCompose(this::bodyOf)
        .thenApply(bytes -> new Received(decode(bytes), body.length, bytes.length))
        .toCompletableFuture();
  }

  private Answer decode(byte[] bytes) {
    try {
      return WireCodec.decode(bytes, Answer.class);
    } catch (WireCodec.MalformedMessage e) {
      throw new PeerCallFailed("peer " + peer.name() + " sent a malformed answer: " + e.getMessage());
    }
  }

  private CompletionStage<byte[]> bodyOf(HttpResponse response) {
    CompletionStage<ByteString> bytes = response.entity()
        .toStrict(timeout.toMillis(), materializer)
        .thenApply(strict -> strict.getData());
    if (response.status().intValue() != 200) {
      return bytes.thenCompose(text -> CompletableFuture.failedFuture(new PeerCallFailed(
          "peer " + peer.name() + " answered " + response.status().intValue() + ": "
              + abbreviate(text.utf8String()), response.status().intValue())));
    }
    return bytes.thenApply(ByteString::toArray);
  }

  private static String abbreviate(String text) {
    return text.length() <= 200 ? text : text.substring(0, 200) + "...";
  }

  /** The peer answered, but not with 200. */
  public static final class PeerCallFailed extends RuntimeException {
    private final int status;

    public PeerCallFailed(String message) {
      this(message, 0);
    }

    public PeerCallFailed(String message, int status) {
      super(message, null, false, false);
      this.status = status;
    }

    /** The HTTP status the peer answered, or 0 when the failure was not an HTTP answer. */
    public int status() {
      return status;
    }
  }
}
