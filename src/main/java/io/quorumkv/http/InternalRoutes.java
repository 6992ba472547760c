package io.quorumkv.http;

import static io.quorumkv.http.JsonResponses.badRequest;
import static io.quorumkv.http.JsonResponses.error;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Scheduler;
import akka.actor.typed.javadsl.AskPattern;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import akka.http.javadsl.unmarshalling.Unmarshaller;
import akka.util.ByteString;
import io.quorumkv.config.Settings;
import io.quorumkv.membership.Identity;
import io.quorumkv.membership.KnownPeerIds;
import io.quorumkv.replication.InternalWire.BucketsReply;
import io.quorumkv.replication.InternalWire.EntriesCall;
import io.quorumkv.replication.InternalWire.EntriesReply;
import io.quorumkv.replication.InternalWire.EntryWire;
import io.quorumkv.replication.InternalWire.PingReply;
import io.quorumkv.replication.InternalWire.TombstoneCall;
import io.quorumkv.replication.InternalWire.TombstoneReply;
import io.quorumkv.replication.InternalWire;
import io.quorumkv.store.ReplicaProtocol;
import io.quorumkv.store.StoreActor;
import io.quorumkv.store.StoreAdmission;
import io.quorumkv.version.ClockFence;
import io.quorumkv.version.HybridLogicalClock;
import io.quorumkv.version.Version;
import java.io.IOException;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * The replica-to-replica endpoints under {@code /internal/v1/}: the {@link ReplicaProtocol}
 * carried as CBOR (see {@link InternalWire}), answered by the local StoreActor; the per-key
 * calls also over the replication stream ({@link ReplicationStreamRoute}). Malformed
 * calls get a 400 JSON error and change nothing; with a cluster secret set, calls without it
 * get 403.
 */
public final class InternalRoutes extends AllDirectives {

  private final ActorRef<StoreActor.Command> store;
  private final Scheduler scheduler;
  private final Settings settings;
  private final HybridLogicalClock clock;
  private final long replicaId;
  private final KnownPeerIds knownPeerIds;
  private final InternalCalls calls;
  private final ClockFence fence;
  private final Identity identity;
  private final java.util.Set<java.net.InetAddress> peerAddresses;
  private final ReplicationStreamRoute stream;

  public InternalRoutes(
      ActorRef<StoreActor.Command> store, StoreAdmission admission, ActorSystem<?> system, Settings settings,
      HybridLogicalClock clock, ClockFence fence, long replicaId, KnownPeerIds knownPeerIds, Identity identity,
      java.util.Set<java.net.InetAddress> peerAddresses) {
    this.fence = fence;
    this.identity = identity;
    this.peerAddresses = java.util.Set.copyOf(peerAddresses);
    Scheduler scheduler = system.scheduler();
    this.knownPeerIds = knownPeerIds;
    this.store = store;
    this.scheduler = scheduler;
    this.settings = settings;
    this.clock = clock;
    this.replicaId = replicaId;
    this.calls = new InternalCalls(store, admission, scheduler, settings, clock, fence);
    this.stream = new ReplicationStreamRoute(calls, settings.valueBytesMax() + 64 * 1024,
        settings.peerRequestsInFlightMax());
  }

  public Route routes() {
    return pathPrefix("internal", () -> pathPrefix("v1", () -> ClusterSecret.required(settings.clusterSecret(),
        () -> concat(
            path(InternalWire.STREAM_PATH, () -> get(() -> extractRequest(request -> stream.route(senderOf(request))))),
            post(() -> extractRequest(request -> endpoints(senderOf(request))))))));
  }

  /**
   * The sender as the connection shows it: never a forwarding header, which the sender writes
   * itself (needs akka.http.server.remote-address-attribute).
   */
  private Sender senderOf(akka.http.javadsl.model.HttpRequest request) {
    return Sender.of(request.getAttribute(akka.http.javadsl.model.AttributeKeys.remoteAddress)
        .flatMap(ip -> ip.getAddress().map(address -> new java.net.InetSocketAddress(address, ip.getPort()))),
        peerAddresses);
  }

  private Route endpoints(Sender from) {
    // An Apply carries a value plus a few dozen bytes of envelope.
    long bodyBytesMax = settings.valueBytesMax() + 64 * 1024L;
    return withSizeLimit(bodyBytesMax, () -> entity(Unmarshaller.entityToByteString(), body -> concat(
        path(InternalWire.READ_VERSION_PATH, () -> call(InternalWire.READ_VERSION_PATH, "", body, from)),
        path(InternalWire.READ_PATH, () -> call(InternalWire.READ_PATH, "", body, from)),
        path(InternalWire.APPLY_PATH, () -> parameterOptional(InternalWire.CAUSE_PARAMETER,
            cause -> call(InternalWire.APPLY_PATH, cause.orElse(""), body, from))),
        // Ping and time are answered while fenced: they are how the fence lifts.
        path(InternalWire.PING_PATH, () -> complete(cbor(
            new PingReply(settings.nodeId(), replicaId, clock.peek(), knownPeerIds.snapshot())))),
        path(InternalWire.TIME_PATH, () -> withCall(body, InternalWire.TimeCall.class,
            call -> complete(cbor(identity.answer(call, from.isPeer(), clock.wallMillis()))))),
        path(InternalWire.BUCKETS_PATH, () -> unlessFenced(this::buckets)),
        path(InternalWire.ENTRIES_PATH, () -> unlessFenced(() -> entries(body, from))),
        path(InternalWire.TOMBSTONE_PATH, () -> unlessFenced(() -> tombstone(body, from))),
        path(InternalWire.SETTLE_PATH, () -> unlessFenced(() -> settle(body, from))))));
  }

  /** A fenced replica answers nothing stamped with its clock (docs/clock-discipline.md, rule 3). */
  private Route unlessFenced(java.util.function.Supplier<Route> inner) {
    return fence.reason()
        .map(reason -> complete(error(StatusCodes.SERVICE_UNAVAILABLE, reason, "phase", "clock")))
        .orElseGet(inner);
  }

  /** One of the per-key calls, answered as {@link InternalCalls} decides. */
  private Route call(String endpoint, String cause, ByteString body, Sender from) {
    return onSuccess(calls.handle(endpoint, cause, body.toArray(), from), outcome -> {
      if (outcome instanceof InternalCalls.Refused refused) {
        return complete(error(StatusCodes.get(refused.status()), refused.reason(), refused.details()));
      }
      return complete(cbor(((InternalCalls.Answered) outcome).cbor()));
    });
  }

  private Route buckets() {
    return onSuccess(
        AskPattern.<StoreActor.Command, StoreActor.Buckets>ask(
            store, StoreActor.GetBuckets::new, settings.peerRequestTimeout(), scheduler),
        buckets -> complete(cbor(new BucketsReply(buckets.hashes(), replicaId, clock.peek()))));
  }

  private Route entries(ByteString body, Sender from) {
    return withCall(body, EntriesCall.class, call -> withClock(from, "entries", call.senderReplicaId(), () -> {
      Set<Integer> buckets = new HashSet<>();
      for (int bucket : call.buckets()) {
        buckets.add(bucket);
      }
      return onSuccess(
          AskPattern.<StoreActor.Command, StoreActor.Entries>ask(store,
              replyTo -> new StoreActor.ListEntries(buckets, call.limit(), call.includeSettled(), replyTo),
              settings.peerRequestTimeout(), scheduler),
          entries -> complete(cbor(new EntriesReply(
              entries.entries().stream()
                  .map(e -> new EntryWire(e.key(), e.version().hlc(), e.version().replicaId(), e.digest()))
                  .toList(),
              entries.truncated(), replicaId, clock.peek()))));
    }, call.senderClock()));
  }

  private Route tombstone(ByteString body, Sender from) {
    return withCall(body, TombstoneCall.class, call -> withKey(call.key(), () -> withClock(from, "tombstone",
        call.senderReplicaId(), () -> {
      Version version = new Version(call.hlc(), call.versionReplicaId());
      return onSuccess(
          AskPattern.<StoreActor.Command, StoreActor.TombstoneHeld>ask(store,
              replyTo -> new StoreActor.CheckTombstone(call.key(), version, replyTo),
              settings.peerRequestTimeout(), scheduler),
          held -> complete(cbor(new TombstoneReply(held.holds(), replicaId, clock.peek()))));
    }, call.senderClock(), call.hlc())));
  }

  private Route settle(ByteString body, Sender from) {
    return withCall(body, TombstoneCall.class, call -> withKey(call.key(), () -> withClock(from, "settle",
        call.senderReplicaId(), () -> {
      store.tell(new StoreActor.SettleTombstone(call.key(), new Version(call.hlc(), call.versionReplicaId())));
      return complete(cbor(new TombstoneReply(true, replicaId, clock.peek())));
    }, call.senderClock(), call.hlc())));
  }

  /** Runs {@code inner} once the call's readings are admitted; a 400 otherwise (clock rule 1). */
  private Route withClock(
      Sender from, String what, long senderReplicaId, java.util.function.Supplier<Route> inner, long... readings) {
    return ClockCheck.refusal(clock, from.description(), what, senderReplicaId, readings)
        .map(refused -> complete(error(StatusCodes.get(refused.status()), refused.reason(), refused.details())))
        .orElseGet(inner);
  }

  private <T> Route withCall(ByteString body, Class<T> type, Function<T, Route> inner) {
    T call;
    try {
      call = InternalWire.decode(body.toArray(), type);
    } catch (IOException e) {
      return complete(badRequest("malformed internal request: " + firstLine(e.getMessage())));
    }
    return inner.apply(call);
  }

  private Route withKey(String key, java.util.function.Supplier<Route> inner) {
    Optional<String> problem = Keys.problem(key, settings.keyBytesMax());
    return problem.map(reason -> complete(badRequest("malformed internal request: " + reason)))
        .orElseGet(inner);
  }

  private static HttpResponse cbor(Object message) {
    return cbor(InternalWire.encode(message));
  }

  private static HttpResponse cbor(byte[] encoded) {
    return HttpResponse.create().withStatus(StatusCodes.OK)
        .withEntity(ContentTypes.parse(InternalWire.CONTENT_TYPE), encoded);
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "unreadable body";
    }
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }

}
