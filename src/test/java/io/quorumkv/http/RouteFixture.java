package io.quorumkv.http;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import akka.actor.typed.javadsl.Behaviors;
import akka.http.javadsl.server.Route;
import com.typesafe.config.ConfigFactory;
import io.quorumkv.config.Settings;
import io.quorumkv.coordinator.Coordinators;
import io.quorumkv.http.ClusterView;
import io.quorumkv.membership.KnownPeerIds;
import io.quorumkv.config.FsyncMode;
import io.quorumkv.store.Incarnation;
import io.quorumkv.store.MemoryStorage;
import io.quorumkv.store.ReplicaHandle;
import io.quorumkv.store.ReplicaProtocol;
import io.quorumkv.store.ReplicaStats;
import io.quorumkv.store.StoreActor;
import io.quorumkv.store.StoreCore;
import io.quorumkv.store.StoreAdmission;
import io.quorumkv.version.HybridLogicalClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A replica's routes over real actors inside a route test's actor system: a local StoreActor
 * plus {@code deadPeers} peers that never answer (so requests needing them time out).
 */
final class RouteFixture {

  /** A request as if it arrived on a connection from {@code address} (the testkit sets no remote address). */
  static akka.http.javadsl.model.HttpRequest from(String address, akka.http.javadsl.model.HttpRequest request) {
    try {
      return request.addAttribute(akka.http.javadsl.model.AttributeKeys.remoteAddress,
          akka.http.javadsl.model.RemoteAddress.create(java.net.InetAddress.getByName(address)));
    } catch (java.net.UnknownHostException e) {
      throw new IllegalArgumentException(address, e);
    }
  }

  static final long REPLICA_ID = 0x1234L;
  private static final Incarnation READY = new Incarnation(REPLICA_ID, Incarnation.State.READY, List.of(), state -> { });

  final Settings settings;
  final HybridLogicalClock clock;
  final io.quorumkv.version.ClockFence fence;
  final StoreAdmission admission;
  final io.quorumkv.membership.Identity identity;
  final io.quorumkv.membership.KnownPeerIds knownPeerIds;
  final ActorRef<StoreActor.Command> store;
  final MemoryStorage storage = new MemoryStorage();
  final io.quorumkv.store.StorageAlarm storageAlarm;
  final Route route;
  final io.quorumkv.security.AccessAudit audit;
  final java.util.Optional<io.quorumkv.security.TokenFile> tokens;
  /** What the dead peers support: nothing until a test says otherwise (they never answer). */
  final io.quorumkv.membership.PeerCapabilities capabilities;

  RouteFixture(akka.actor.ActorSystem classic, String configOverrides, int deadPeers) {
    ConfigFactory.invalidateCaches();
    settings = Settings.load(
        ConfigFactory.parseString("quorumkv.node-id = self\nquorumkv.allow-single-replica = true\n" + configOverrides).withFallback(ConfigFactory.load()),
        Map.of());
    ActorSystem<Void> system = Adapter.toTyped(classic);
    clock = new HybridLogicalClock(System::currentTimeMillis, 0L, settings.maxClockOffset());
    // No peer is ever measured here: a fence over the dead peers would hold forever.
    fence = new io.quorumkv.version.ClockFence(0, clock, Duration.ofMinutes(1));
    ReplicaStats stats = new ReplicaStats();
    admission = new StoreAdmission(settings.storeQueueMax(), settings.storeQueueBytesMax());
    knownPeerIds = new KnownPeerIds(Map.of(), (name, id) -> { });
    identity = new io.quorumkv.membership.Identity(REPLICA_ID, Long.MAX_VALUE, () -> 0L, READY, knownPeerIds,
        new io.quorumkv.membership.PeerSequences(new byte[0]), new io.quorumkv.membership.DuplicateDetector(),
        new io.quorumkv.membership.IdentityAlarm(REPLICA_ID), reason -> { });
    storageAlarm = new io.quorumkv.store.StorageAlarm(settings.storageBytesMax());
    store = Adapter.spawnAnonymous(classic,
        StoreActor.create("self", REPLICA_ID, storage, clock, stats, FsyncMode.ALWAYS, Duration.ofMinutes(1),
            READY, new StoreCore.PurgeRule(Duration.ofHours(3), Duration.ofMinutes(1), Duration.ofSeconds(5), () -> true),
            admission, storageAlarm, java.util.Set.of()));
    List<ReplicaHandle> replicas = new ArrayList<>();
    replicas.add(ReplicaHandle.local("self", store, admission));
    List<String> deadNames = new ArrayList<>();
    for (int i = 1; i <= deadPeers; i++) {
      deadNames.add("dead" + i);
    }
    capabilities = new io.quorumkv.membership.PeerCapabilities(deadNames, name -> false);
    for (int i = 1; i <= deadPeers; i++) {
      String name = "dead" + i;
      replicas.add(new ReplicaHandle(name, Adapter.spawnAnonymous(classic, Behaviors.<ReplicaProtocol.Call>ignore())));
    }
    ActorRef<Coordinators.Command> coordinators = Adapter.spawnAnonymous(classic, Coordinators.create(
        new Coordinators.Settings(replicas, clock, REPLICA_ID, stats, io.quorumkv.coordinator.MissedWrites.NONE, settings.writeTimeout(),
            settings.readTimeout(), settings.requestsInFlightMax(), settings.fanout(), fence,
            () -> identity.alarm().reason(), storageAlarm, name -> true, settings.fastRound(), java.util.Set.of())));
    ClusterView view = new ClusterView("self", REPLICA_ID, List.of(), Map.of(), Map.of(), READY,
        new io.quorumkv.membership.RetiredPeers(java.util.Set.of(), (name, retired) -> { }), stats, 1, 1, fence, identity,
        storageAlarm);
    // No peers: internal and admin calls are answered to loopback only (the tests' requests say so).
    io.quorumkv.security.NetworkAccess access = new io.quorumkv.security.NetworkAccess(
        io.quorumkv.security.PeerAddressBook.of(List.of(), Runnable::run), List.of());
    audit = new io.quorumkv.security.AccessAudit();
    tokens = settings.tokensFile().isEmpty() ? java.util.Optional.empty()
        : java.util.Optional.of(io.quorumkv.security.TokenFile.open(java.nio.file.Path.of(settings.tokensFile())));
    PublicRoutes publicRoutes = new PublicRoutes(coordinators, system.scheduler(), settings, view,
        new io.quorumkv.metrics.ReplicaMetrics(stats, Map.of(), Map.of(), clock, fence, admission,
            storageAlarm), tokens, audit, capabilities);
    InternalRoutes internalRoutes = new InternalRoutes(store, admission, system, settings, clock, fence, REPLICA_ID,
        knownPeerIds, identity, access, audit);
    AdminRoutes adminRoutes = new AdminRoutes(settings,
        new io.quorumkv.membership.RetiredPeers(java.util.Set.of(), (name, retired) -> { }), java.util.Optional.empty(),
        Runnable::run, access, audit, tokens);
    route = publicRoutes.concat(internalRoutes.routes(), adminRoutes.routes(), publicRoutes.routes())
        .seal(ErrorHandling.rejections(), ErrorHandling.exceptions());
  }
}
