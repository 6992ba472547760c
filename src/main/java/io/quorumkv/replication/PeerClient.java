package io.quorumkv.replication;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.Http;
import akka.http.javadsl.model.ContentType;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.headers.RawHeader;
import akka.stream.Materializer;
import akka.util.ByteString;
import io.quorumkv.config.PeerAddress;
import io.quorumkv.store.ReplicaProtocol;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Calls one peer's internal endpoints: over HTTP (akka-http's pooled client: connections to the
 * peer are reused, and the pool bounds how many requests may wait), and the per-key foreground
 * calls over the peer's replication stream ({@link PeerStream}) while it is open. Every call
 * has a deadline and counts against one in-flight bound, whichever way it travels. Not an
 * actor: {@link RemoteReplica}, the peer monitor and anti-entropy share it.
 */
public final class PeerClient {

  private static final ContentType CBOR = ContentTypes.parse(InternalWire.CONTENT_TYPE);

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

  public PeerClient(
      ActorSystem<?> system, PeerAddress peer, Duration timeout, String secret, int inFlightMax, boolean streamed,
      int frameBytesMax, PeerTraffic traffic) {
    this.peer = peer;
    this.stream = streamed ? new PeerStream(system, peer, secret, frameBytesMax, timeout) : null;
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
   * POSTs {@code body} to {@code /internal/v1/<endpoint>}; completes with the answer's bytes,
   * or exceptionally (a {@link PeerCallFailed} for an unexpected status, a timeout, a refused
   * connection).
   */
  public CompletionStage<byte[]> call(String endpoint, byte[] body) {
    return call(endpoint, "", body, false);
  }

  /**
   * One per-key call ({@code read-version}, {@code read}, {@code apply} with its cause label,
   * empty for the reads): on the replication stream when it is on and open and the call is
   * foreground ({@code apply} only for cause {@code write}), over HTTP otherwise.
   */
  public CompletionStage<byte[]> keyCall(String endpoint, String cause, byte[] body) {
    boolean foreground = !endpoint.equals(InternalWire.APPLY_PATH) || cause.equals(ReplicaProtocol.Cause.WRITE.label());
    return call(endpoint, cause, body, stream != null && foreground);
  }

  private CompletionStage<byte[]> call(String endpoint, String cause, byte[] body, boolean streamed) {
    if (inFlight.incrementAndGet() > inFlightMax) {
      inFlight.decrementAndGet();
      traffic.called(peer.name(), endpoint, false, 0, 0);
      return CompletableFuture.failedFuture(new PeerCallFailed(
          "more than " + inFlightMax + " requests to peer " + peer.name() + " are outstanding"));
    }
    CompletableFuture<byte[]> answer = streamed ? stream.call(endpoint, cause, body) : null;
    if (answer == null) {
      answer = httpCall(endpoint, cause, body);
    }
    // The deadline completes the call itself, so a call that timed out frees its slot at once
    // (and is forgotten by the stream). An HTTP request the pool still holds past its deadline
    // stays bounded by the pool's own max-open-requests, beyond which new requests fail at once.
    CompletableFuture<byte[]> bounded = answer.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
    bounded.whenComplete((bytes, failure) -> {
      inFlight.decrementAndGet();
      traffic.called(peer.name(), endpoint, failure == null, body.length, bytes == null ? 0 : bytes.length);
    });
    return bounded;
  }

  private CompletableFuture<byte[]> httpCall(String endpoint, String cause, byte[] body) {
    // The cause rides in the query string, where a proxy can see it without decoding the body.
    String target = cause.isEmpty() ? endpoint : endpoint + "?" + InternalWire.CAUSE_PARAMETER + "=" + cause;
    HttpRequest request = HttpRequest.POST("http://" + peer.address() + "/internal/v1/" + target)
        .withEntity(CBOR, body);
    if (!secret.isEmpty()) {
      request = request.addHeader(RawHeader.create(InternalWire.SECRET_HEADER, secret));
    }
    return http.singleRequest(request).thenCompose(this::bodyOf).toCompletableFuture();
  }

  private CompletionStage<byte[]> bodyOf(HttpResponse response) {
    CompletionStage<ByteString> bytes = response.entity()
        .toStrict(timeout.toMillis(), materializer)
        .thenApply(strict -> strict.getData());
    if (response.status().intValue() != 200) {
      return bytes.thenCompose(text -> CompletableFuture.failedFuture(new PeerCallFailed(
          "peer " + peer.name() + " answered " + response.status().intValue() + ": "
              + abbreviate(text.utf8String()))));
    }
    return bytes.thenApply(ByteString::toArray);
  }

  private static String abbreviate(String text) {
    return text.length() <= 200 ? text : text.substring(0, 200) + "...";
  }

  /** The peer answered, but not with 200. */
  public static final class PeerCallFailed extends RuntimeException {
    public PeerCallFailed(String message) {
      super(message, null, false, false);
    }
  }
}
