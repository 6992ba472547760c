package io.quorumkv.http;

import static io.quorumkv.http.JsonResponses.badRequest;
import static io.quorumkv.http.JsonResponses.error;

import akka.actor.typed.ActorRef;
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
import io.quorumkv.membership.KnownPeerIds;
import io.quorumkv.replication.InternalWire.ApplyCall;
import io.quorumkv.replication.InternalWire.BucketsReply;
import io.quorumkv.replication.InternalWire.EntriesCall;
import io.quorumkv.replication.InternalWire.EntriesReply;
import io.quorumkv.replication.InternalWire.EntryWire;
import io.quorumkv.replication.InternalWire.KeyCall;
import io.quorumkv.replication.InternalWire.PingReply;
import io.quorumkv.replication.InternalWire.TombstoneCall;
import io.quorumkv.replication.InternalWire.TombstoneReply;
import io.quorumkv.replication.InternalWire.VersionReply;
import io.quorumkv.replication.InternalWire;
import io.quorumkv.store.Record;
import io.quorumkv.store.ReplicaProtocol.Answer;
import io.quorumkv.store.ReplicaProtocol.Applied;
import io.quorumkv.store.ReplicaProtocol.RecordHeld;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.ReplicaProtocol.Unavailable;
import io.quorumkv.store.ReplicaProtocol.VersionHeld;
import io.quorumkv.store.ReplicaProtocol;
import io.quorumkv.store.StoreActor;
import io.quorumkv.version.HybridLogicalClock;
import io.quorumkv.version.Version;
import java.io.IOException;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * The replica-to-replica endpoints under {@code /internal/v1/}: the {@link ReplicaProtocol}
 * carried as CBOR (see {@link InternalWire}), answered by the local StoreActor. Malformed
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

  public InternalRoutes(
      ActorRef<StoreActor.Command> store, Scheduler scheduler, Settings settings,
      HybridLogicalClock clock, long replicaId, KnownPeerIds knownPeerIds) {
    this.knownPeerIds = knownPeerIds;
    this.store = store;
    this.scheduler = scheduler;
    this.settings = settings;
    this.clock = clock;
    this.replicaId = replicaId;
  }

  public Route routes() {
    return pathPrefix("internal", () -> pathPrefix("v1", () ->
        post(() -> ClusterSecret.required(settings.clusterSecret(), this::endpoints))));
  }

  private Route endpoints() {
    // An Apply carries a value plus a few dozen bytes of envelope.
    long bodyBytesMax = settings.valueBytesMax() + 64 * 1024L;
    return withSizeLimit(bodyBytesMax, () -> entity(Unmarshaller.entityToByteString(), body -> concat(
        path(InternalWire.READ_VERSION_PATH, () -> readVersion(body)),
        path(InternalWire.READ_PATH, () -> read(body)),
        path(InternalWire.APPLY_PATH, () -> parameterOptional(InternalWire.CAUSE_PARAMETER,
            cause -> apply(body, ReplicaProtocol.Cause.parse(cause.orElse(""))))),
        path(InternalWire.PING_PATH, () -> complete(cbor(
            new PingReply(settings.nodeId(), replicaId, clock.peek(), knownPeerIds.snapshot())))),
        path(InternalWire.BUCKETS_PATH, this::buckets),
        path(InternalWire.ENTRIES_PATH, () -> entries(body)),
        path(InternalWire.TOMBSTONE_PATH, () -> tombstone(body)),
        path(InternalWire.SETTLE_PATH, () -> settle(body)))));
  }

  private Route readVersion(ByteString body) {
    return withCall(body, KeyCall.class, call -> withKey(call.key(), () ->
        ask(replyTo -> new ReplicaProtocol.ReadVersion(call.key(), stampOf(call), replyTo),
            answer -> {
              VersionHeld held = (VersionHeld) answer;
              return cbor(new VersionReply(held.version().hlc(), held.version().replicaId(), held.digest(),
                  held.stamp().replicaId(), held.stamp().clock()));
            })));
  }

  private Route read(ByteString body) {
    return withCall(body, KeyCall.class, call -> withKey(call.key(), () ->
        ask(replyTo -> new ReplicaProtocol.Read(call.key(), stampOf(call), replyTo),
            answer -> {
              RecordHeld held = (RecordHeld) answer;
              return cbor(InternalWire.recordReply(held.record(), held.stamp()));
            })));
  }

  private Route apply(ByteString body, ReplicaProtocol.Cause cause) {
    return withCall(body, ApplyCall.class, call -> withKey(call.key(), () -> {
      Record record;
      try {
        record = InternalWire.recordOf(call);
      } catch (IllegalArgumentException e) {
        return complete(badRequest("malformed internal request: " + e.getMessage()));
      }
      if (!record.isTombstone() && record.value().length() > settings.valueBytesMax()) {
        return complete(error(StatusCodes.PAYLOAD_TOO_LARGE, "the value is too large",
            "valueBytes", record.value().length(), "limitBytes", settings.valueBytesMax()));
      }
      Stamp sender = new Stamp(call.senderReplicaId(), call.senderClock());
      return ask(replyTo -> new ReplicaProtocol.Apply(call.key(), record, sender, replyTo, cause),
          answer -> {
            Applied applied = (Applied) answer;
            return cbor(new VersionReply(applied.version().hlc(), applied.version().replicaId(),
                applied.digest(), applied.stamp().replicaId(), applied.stamp().clock()));
          });
    }));
  }

  private Route buckets() {
    return onSuccess(
        AskPattern.<StoreActor.Command, StoreActor.Buckets>ask(
            store, StoreActor.GetBuckets::new, settings.peerRequestTimeout(), scheduler),
        buckets -> complete(cbor(new BucketsReply(buckets.hashes(), replicaId, clock.peek()))));
  }

  private Route entries(ByteString body) {
    return withCall(body, EntriesCall.class, call -> {
      clock.observe(call.senderClock());
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
    });
  }

  private Route tombstone(ByteString body) {
    return withCall(body, TombstoneCall.class, call -> withKey(call.key(), () -> {
      clock.observe(call.senderClock());
      Version version = new Version(call.hlc(), call.versionReplicaId());
      return onSuccess(
          AskPattern.<StoreActor.Command, StoreActor.TombstoneHeld>ask(store,
              replyTo -> new StoreActor.CheckTombstone(call.key(), version, replyTo),
              settings.peerRequestTimeout(), scheduler),
          held -> complete(cbor(new TombstoneReply(held.holds(), replicaId, clock.peek()))));
    }));
  }

  private Route settle(ByteString body) {
    return withCall(body, TombstoneCall.class, call -> withKey(call.key(), () -> {
      clock.observe(call.senderClock());
      store.tell(new StoreActor.SettleTombstone(call.key(), new Version(call.hlc(), call.versionReplicaId())));
      return complete(cbor(new TombstoneReply(true, replicaId, clock.peek())));
    }));
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

  private Route ask(
      Function<ActorRef<Answer>, ReplicaProtocol.Request> request, Function<Answer, HttpResponse> toResponse) {
    return onSuccess(
        AskPattern.<StoreActor.Command, Answer>ask(store, request::apply, settings.peerRequestTimeout(), scheduler),
        answer -> complete(answer instanceof Unavailable unavailable
            ? error(StatusCodes.SERVICE_UNAVAILABLE, unavailable.reason())
            : toResponse.apply(answer)));
  }

  private static Stamp stampOf(KeyCall call) {
    return new Stamp(call.senderReplicaId(), call.senderClock());
  }

  private static HttpResponse cbor(Object message) {
    return HttpResponse.create().withStatus(StatusCodes.OK)
        .withEntity(ContentTypes.parse(InternalWire.CONTENT_TYPE), InternalWire.encode(message));
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "unreadable body";
    }
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }

}
