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
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Calls one peer's internal endpoints over HTTP (akka-http's pooled client: connections to the
 * peer are reused, and the pool bounds how many requests may wait). Every call has a deadline.
 * Not an actor: {@link RemoteReplica} and the peer monitor share it.
 */
public final class PeerClient {

  private static final ContentType CBOR = ContentTypes.parse(InternalWire.CONTENT_TYPE);

  private final PeerAddress peer;
  private final Http http;
  private final Materializer materializer;
  private final Duration timeout;
  private final String secret;
  private final int inFlightMax;
  /** Requests handed to the pool and not yet finished there (which may be after our timeout). */
  private final AtomicInteger inFlight = new AtomicInteger();
  private final PeerTraffic traffic;

  public PeerClient(
      ActorSystem<?> system, PeerAddress peer, Duration timeout, String secret, int inFlightMax, PeerTraffic traffic) {
    this.peer = peer;
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

  /**
   * POSTs {@code body} to {@code /internal/v1/<endpoint>}; completes with the answer's bytes,
   * or exceptionally (a {@link PeerCallFailed} for an unexpected status, a timeout, a refused
   * connection).
   */
  public CompletionStage<byte[]> call(String endpoint, byte[] body) {
    HttpRequest request = HttpRequest.POST("http://" + peer.address() + "/internal/v1/" + endpoint)
        .withEntity(CBOR, body);
    if (!secret.isEmpty()) {
      request = request.addHeader(RawHeader.create(InternalWire.SECRET_HEADER, secret));
    }
    String endpointName = endpoint.contains("?") ? endpoint.substring(0, endpoint.indexOf('?')) : endpoint;
    if (inFlight.incrementAndGet() > inFlightMax) {
      inFlight.decrementAndGet();
      traffic.called(peer.name(), endpointName, false, 0, 0);
      return CompletableFuture.failedFuture(new PeerCallFailed(
          "more than " + inFlightMax + " requests to peer " + peer.name() + " are outstanding"));
    }
    CompletableFuture<byte[]> answer = http.singleRequest(request)
        .thenCompose(this::bodyOf)
        .toCompletableFuture();
    answer.whenComplete((bytes, failure) -> inFlight.decrementAndGet());
    // A copy with the deadline: timing out must not count the pool's request as finished.
    CompletableFuture<byte[]> bounded = answer.copy().orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
    bounded.whenComplete((bytes, failure) ->
        traffic.called(peer.name(), endpointName, failure == null, body.length, bytes == null ? 0 : bytes.length));
    return bounded;
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
