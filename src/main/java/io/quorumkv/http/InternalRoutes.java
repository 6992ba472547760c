package io.quorumkv.http;

import static io.quorumkv.http.JsonResponses.error;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import akka.http.javadsl.unmarshalling.Unmarshaller;
import io.quorumkv.config.Settings;
import io.quorumkv.membership.Identity;
import io.quorumkv.membership.KnownPeerIds;
import io.quorumkv.store.ReplicaProtocol;
import io.quorumkv.store.StoreActor;
import io.quorumkv.store.StoreAdmission;
import io.quorumkv.version.ClockFence;
import io.quorumkv.version.HybridLogicalClock;
import io.quorumkv.wire.InternalHttp;
import io.quorumkv.wire.WireCodec;
import io.quorumkv.security.AccessAudit;
import io.quorumkv.security.NetworkAccess;

/**
 * The replica-to-replica endpoints under {@code /internal/v2/}: {@code POST call}, one
 * {@link ReplicaProtocol} request in CBOR ({@link WireCodec}) answered by {@link InternalEndpoint},
 * and {@code GET stream}, the replication stream ({@link ReplicationStreamRoute}). Malformed
 * requests get a 400 JSON error and change nothing; calls from an address that is not a peer's,
 * loopback or in {@code INTERNAL_ALLOW_CIDRS} get 403 ({@link NetworkAccess}), and so do calls
 * without the cluster secret when one is set.
 */
public final class InternalRoutes extends AllDirectives {

  private final Settings settings;
  private final InternalEndpoint endpoint;
  private final NetworkAccess access;
  private final AccessAudit audit;
  private final ReplicationStreamRoute stream;

  public InternalRoutes(
      ActorRef<StoreActor.Command> store, StoreAdmission admission, ActorSystem<?> system, Settings settings,
      HybridLogicalClock clock, ClockFence fence, long replicaId, KnownPeerIds knownPeerIds, Identity identity,
      NetworkAccess access, AccessAudit audit) {
    this.settings = settings;
    this.access = access;
    this.audit = audit;
    this.endpoint = new InternalEndpoint(store, admission, system.scheduler(), settings, clock, fence, replicaId,
        knownPeerIds, identity);
    this.stream = new ReplicationStreamRoute(endpoint, endpoint.requestBytesMax(), settings.peerRequestsInFlightMax());
  }

  public Route routes() {
    return pathPrefix(InternalHttp.PREFIX, () -> pathPrefix(InternalHttp.VERSION,
        () -> AccessCheck.internal(access, audit, () -> ClusterSecret.required(settings.clusterSecret(), () -> concat(
            path(InternalHttp.STREAM_PATH, () -> get(() -> extractRequest(
                request -> stream.route(senderOf(request), streamLifetime(request))))),
            path(InternalHttp.CALL_PATH, () -> post(() -> extractRequest(request -> call(senderOf(request))))))))));
  }

  /** With TLS, a replication stream lasts at most an hour, and never past its peer's certificate. */
  static final java.time.Duration STREAM_LIFETIME_MAX = java.time.Duration.ofHours(1);

  /**
   * How long a stream opened by {@code request} may last: over TLS, until its certificate expires
   * and at most {@link #STREAM_LIFETIME_MAX} (a CA removed from the trusted ones, or an expired
   * certificate, shuts its streams out within the hour: the peer reconnects, with a new
   * handshake); without TLS, as long as the connection.
   */
  private java.util.Optional<java.time.Duration> streamLifetime(akka.http.javadsl.model.HttpRequest request) {
    java.util.Optional<javax.net.ssl.SSLSession> session = AccessCheck.tlsSession(request);
    if (session.isEmpty()) {
      return java.util.Optional.empty();
    }
    return java.util.Optional.of(streamLifetime(java.time.Instant.now(), access.caller(session).validUntil()));
  }

  /** Until {@code validUntil}, and at most {@link #STREAM_LIFETIME_MAX}. */
  static java.time.Duration streamLifetime(java.time.Instant now, java.time.Instant validUntil) {
    java.time.Duration untilExpiry = java.time.Duration.between(now, validUntil);
    return untilExpiry.compareTo(STREAM_LIFETIME_MAX) < 0 ? untilExpiry : STREAM_LIFETIME_MAX;
  }

  /**
   * The sender as the connection shows it: never a forwarding header, which the sender writes
   * itself (needs akka.http.server.remote-address-attribute).
   */
  private Sender senderOf(akka.http.javadsl.model.HttpRequest request) {
    return Sender.of(request.getAttribute(akka.http.javadsl.model.AttributeKeys.remoteAddress)
        .flatMap(ip -> ip.getAddress().map(address -> new java.net.InetSocketAddress(address, ip.getPort()))),
        access.peers()::knows);
  }

  private Route call(Sender from) {
    return withSizeLimit(endpoint.requestBytesMax(), () -> entity(Unmarshaller.entityToByteString(),
        body -> onSuccess(endpoint.handle(body.toArray(), from), outcome -> {
          if (outcome instanceof InternalEndpoint.Refused refused) {
            return complete(error(StatusCodes.get(refused.status()), refused.reason(), refused.details()));
          }
          return complete(HttpResponse.create().withStatus(StatusCodes.OK).withEntity(
              ContentTypes.parse(WireCodec.CONTENT_TYPE),
              WireCodec.encode(((InternalEndpoint.Answered) outcome).answer())));
        })));
  }
}
