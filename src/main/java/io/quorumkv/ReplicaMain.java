package io.quorumkv;

import io.quorumkv.jvm.CommonPoolFix;
import io.quorumkv.version.Version;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.Terminated;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.http.javadsl.server.Route;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.quorumkv.config.PeerAddress;
import io.quorumkv.config.Settings;
import io.quorumkv.coordinator.Consistency;
import io.quorumkv.coordinator.Coordinators;
import io.quorumkv.http.AdminRoutes;
import io.quorumkv.http.ErrorHandling;
import io.quorumkv.http.GuardedServer;
import io.quorumkv.http.InternalRoutes;
import io.quorumkv.http.PublicRoutes;
import io.quorumkv.metrics.ReplicaMetrics;
import io.quorumkv.http.ClusterView;
import io.quorumkv.membership.DuplicateDetector;
import io.quorumkv.membership.Identity;
import io.quorumkv.membership.IdentityAlarm;
import io.quorumkv.membership.PeerSequences;
import io.quorumkv.membership.KnownPeerIds;
import io.quorumkv.membership.PeerCapabilities;
import io.quorumkv.membership.PeerMonitor;
import io.quorumkv.membership.PeerStatus;
import io.quorumkv.membership.RetiredPeers;
import io.quorumkv.replication.AntiEntropy;
import io.quorumkv.replication.AntiEntropySession;
import io.quorumkv.replication.AntiEntropyStatus;
import io.quorumkv.replication.HintStatus;
import io.quorumkv.replication.HintedHandoff;
import io.quorumkv.transport.PeerClient;
import io.quorumkv.transport.RemoteReplica;
import io.quorumkv.wire.WireCodec;
import io.quorumkv.coordinator.MissedWrites;
import io.quorumkv.replication.TombstoneSweeper;
import io.quorumkv.security.AccessAudit;
import io.quorumkv.security.NetworkAccess;
import io.quorumkv.security.ReplicaTls;
import io.quorumkv.security.PeerAddressBook;
import io.quorumkv.security.TokenFile;
import io.quorumkv.config.FsyncMode;
import io.quorumkv.store.Incarnation;
import io.quorumkv.store.MemoryStorage;
import io.quorumkv.store.ReplicaHandle;
import io.quorumkv.store.ReplicaMetadata;
import io.quorumkv.store.ReplicaStats;
import io.quorumkv.store.DataSnapshots;
import io.quorumkv.store.RocksDbNativeLibrary;
import io.quorumkv.store.RocksDbStorage;
import io.quorumkv.store.Storage;
import io.quorumkv.store.StorageUnusableException;
import io.quorumkv.store.StoreActor;
import io.quorumkv.store.StoreCore;
import io.quorumkv.store.StorageAlarm;
import io.quorumkv.store.StoreAdmission;
import io.quorumkv.version.ClockFence;
import io.quorumkv.version.HybridLogicalClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts one replica: settings, then the actors (store, one RemoteReplica and PeerMonitor per
 * peer, the coordinators), then the HTTP server. Only wiring lives here.
 */
public final class ReplicaMain {

  private static final Logger log = LoggerFactory.getLogger(ReplicaMain.class);

  /** Exit status for a configuration the replica cannot run with. */
  static final int EXIT_BAD_CONFIGURATION = 2;
  /** Exit status when the port cannot be bound. */
  static final int EXIT_CANNOT_LISTEN = 3;
  /** Exit status when the data directory cannot be used. */
  static final int EXIT_STORAGE_UNUSABLE = 4;
  /** Exit status when storage failed while running: the replica stops rather than limp on. */
  static final int EXIT_STORAGE_FAILED = 5;
  /**
   * Exit status when a peer showed that this data directory's state went backwards: a new
   * incarnation is recorded, and the next start discards the old records (docs/identity.md).
   */
  static final int EXIT_STATE_WENT_BACKWARDS = 6;
  /** The disk under the data directory is full at start: nothing was changed; free space, start again. */
  static final int EXIT_DISK_FULL = 7;

  private ReplicaMain() {}

  public static void main(String[] args) {
    ReplicaCommandLine.Action action = ReplicaCommandLine.handle(args, System.out, System.err);
    if (action != ReplicaCommandLine.Action.RUN) {
      System.exit(action.status);
    }
    java.util.Optional<String> logProblem = ReplicaCommandLine.logSettingsProblem(System.getenv());
    if (logProblem.isPresent()) {
      System.err.println("quorumkv: bad configuration: " + logProblem.get());
      System.exit(EXIT_BAD_CONFIGURATION);
    }
    CommonPoolFix.apply();
    // TLS renegotiation started by a client buys it nothing here and costs the server a handshake.
    System.setProperty("jdk.tls.rejectClientInitiatedRenegotiation", "true");
    // The JDK caches a name's addresses for 30 s and a failed lookup for 10 s: too long for a peer
    // that restarts at a new address (PeerAddressBook looks it up again within seconds).
    java.security.Security.setProperty("networkaddress.cache.ttl", "5");
    java.security.Security.setProperty("networkaddress.cache.negative.ttl", "1");
    // Initialise logging before Akka's threads start logging concurrently.
    LoggerFactory.getILoggerFactory();
    // A replica process ends with its actor system (set here, not in application.conf, so
    // tests that load application.conf do not exit their JVM).
    Config config = ConfigFactory.parseString("akka.coordinated-shutdown.exit-jvm = on")
        .withFallback(ConfigFactory.load());
    Settings settings;
    try {
      settings = Settings.load(config, System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println("quorumkv: bad configuration: " + e.getMessage());
      System.exit(EXIT_BAD_CONFIGURATION);
      return;
    }
    java.util.Optional<TokenFile> tokens;
    try {
      tokens = settings.tokensFile().isEmpty() ? java.util.Optional.empty()
          : java.util.Optional.of(TokenFile.open(Path.of(settings.tokensFile())));
    } catch (IllegalArgumentException e) {
      System.err.println("quorumkv: bad configuration: " + e.getMessage());
      System.exit(EXIT_BAD_CONFIGURATION);
      return;
    }
    java.util.Optional<ReplicaTls> tls;
    try {
      Settings.Tls files = settings.tls();
      tls = ReplicaTls.load(files.certFile(), files.keyFile(), files.caFile(), files.peerCaFile(),
          settings.peers().stream().map(PeerAddress::host).toList(), java.time.Instant.now());
    } catch (IllegalArgumentException e) {
      System.err.println("quorumkv: bad configuration: " + e.getMessage());
      System.exit(EXIT_BAD_CONFIGURATION);
      return;
    }
    if (!settings.deliberateBugs().isEmpty()) {
      log.warn("TEST ONLY: deliberate bugs switched on: {}. This replica breaks its guarantees on purpose.",
          settings.deliberateBugs());
    }
    ReplicaStats stats = new ReplicaStats();
    Storage storage;
    long replicaId;
    HybridLogicalClock clock;
    long startSequence;
    try {
      storage = openStorage(settings, stats);
      startSequence = storage.sequence(); // before this process writes anything
      Path dataDir = Path.of(settings.dataDir());
      if (storage instanceof RocksDbStorage && DataSnapshots.isRestored(dataDir)) {
        log.warn("This data directory is a restored snapshot ({}): treated as gone backwards, whatever the peers"
            + " noticed, so it discards the snapshot's records and rebuilds from its peers under a new replica id"
            + " (docs/operating.md, \"Backup and restore\")", dataDir.resolve(DataSnapshots.MARKER));
        ReplicaMetadata.markStateWentBackwards(storage);
        ReplicaMetadata.forgetPeers(storage, settings.peers().stream().map(PeerAddress::name).toList());
        log.warn("If every replica is being restored, stop now: replicas restored in place discard their"
            + " snapshots and would rebuild from each other into an empty cluster. Losing all three is"
            + " disaster recovery: the replica jar's 'recover' command (docs/operating.md, \"Disaster recovery\")");
        DataSnapshots.clearMarker(dataDir);
      }
      if (ReplicaMetadata.discardRequested(storage)) {
        log.warn("The last run found this data directory's state went backwards: discarding its records, hints and"
            + " settled tombstones; it starts as a wiped replica and rebuilds from its peers (docs/identity.md)");
        storage.discardRecords();
        ReplicaMetadata.discardDone(storage);
      }
      boolean stoppedCleanly = ReplicaMetadata.markRunning(storage);
      replicaId = ReplicaMetadata.replicaId(storage);
      if (!stoppedCleanly && settings.fsync() != FsyncMode.ALWAYS) {
        // Writes it acknowledged may be gone: it must not answer for them under its old id.
        replicaId = ReplicaMetadata.newIncarnation(storage);
        log.warn("The last run did not stop cleanly under fsync = {}: starting a new incarnation", settings.fsync());
      }
      if (markIsTooFarAhead(settings, storage)) {
        long aheadMillis = HybridLogicalClock.millisOf(ReplicaMetadata.clockMark(storage))
            - wallMillis(settings).getAsLong();
        replicaId = ReplicaMetadata.newReplicaId(storage);
        ReplicaMetadata.saveClockMark(storage, 0L);
        log.warn("The durable clock mark lies {} ms ahead of the wall clock, beyond max-clock-offset = {}: this"
            + " replica's clock once ran far ahead. Not adopting it: starting under a new replica id {} with a fresh"
            + " clock (docs/clock-discipline.md)", aheadMillis, settings.maxClockOffset(), Version.hex(replicaId));
      }
      clock = clockOf(settings, storage);
    } catch (io.quorumkv.store.StorageFullException e) {
      System.err.println("quorumkv: the disk under the data directory is full (" + e.getMessage()
          + "); nothing was changed: free space and start the replica again");
      System.exit(EXIT_DISK_FULL);
      return;
    } catch (StorageUnusableException e) {
      System.err.println("quorumkv: " + e.getMessage());
      System.exit(EXIT_STORAGE_UNUSABLE);
      return;
    }
    List<String> peerNames = settings.peers().stream().map(PeerAddress::name).toList();
    boolean recoveredCluster = ReplicaMetadata.isRecoveredCluster(storage);
    Incarnation incarnation = new Incarnation(replicaId, ReplicaMetadata.incarnationState(storage), peerNames, state -> {
      if (recoveredCluster && state == Incarnation.State.REBUILDING) {
        // Made by 'recover' for a brand-new cluster, yet a peer has seen another replica in this
        // place: it joins a running cluster, where its records must not be kept (a value deleted
        // and purged there since the snapshots would come back). As rule 1: discard, then rebuild.
        ReplicaMetadata.markStateWentBackwards(storage);
        ReplicaMetadata.clearRecoveredCluster(storage); // the next start is an ordinary wiped replica
        log.error("This data directory was made by 'recover' for a new cluster, but a peer has seen another replica"
            + " in its place: it is joining a running cluster. Recorded a new incarnation; stopping (exit status {}):"
            + " the next start discards the recovered records and rebuilds from the peers", EXIT_STATE_WENT_BACKWARDS);
        new Thread(() -> System.exit(EXIT_STATE_WENT_BACKWARDS), "exit").start();
        return;
      }
      ReplicaMetadata.saveIncarnationState(storage, state);
      if (recoveredCluster && state == Incarnation.State.READY) {
        ReplicaMetadata.clearRecoveredCluster(storage);
      }
      log.info("Incarnation: {}", state == Incarnation.State.READY
          ? "ready, this replica's answers count toward quorums"
          : "rebuilding, it replaced another replica and pulls everything from every peer first");
    });
    if (!incarnation.isReady()) {
      log.info("New data directory: this replica counts toward no quorum until its peers vouch for it"
          + " or it has pulled everything from them");
    }
    KnownPeerIds knownPeerIds = new KnownPeerIds(ReplicaMetadata.knownPeerIds(storage, peerNames),
        (name, ids) -> ReplicaMetadata.saveKnownPeerIds(storage, name, ids));
    RetiredPeers retired = new RetiredPeers(ReplicaMetadata.retiredPeers(storage, peerNames),
        (name, isRetired) -> ReplicaMetadata.saveRetired(storage, name, isRetired));
    PeerSequences sequences = new PeerSequences(ReplicaMetadata.peerSequences(storage));
    ActorSystem.create(guardian(settings, storage, stats, replicaId, clock,
        new Membership(incarnation, knownPeerIds, retired, sequences, startSequence,
            new PeerCapabilities(peerNames, retired::isRetired)), new Security(tokens, tls)),
        "quorumkv", config);
  }

  /** Client tokens and TLS, each when configured. */
  private record Security(java.util.Optional<TokenFile> tokens, java.util.Optional<ReplicaTls> tls) {}

  /** What this replica knows about its place in the cluster, shared by several actors and routes. */
  private record Membership(
      Incarnation incarnation, KnownPeerIds knownPeerIds, RetiredPeers retired, PeerSequences sequences,
      long startSequence, PeerCapabilities capabilities) {}

  private static Storage openStorage(Settings settings, ReplicaStats stats) {
    if (settings.storageEngine().equals(Settings.ENGINE_MEMORY)) {
      return new MemoryStorage();
    }
    // Before RocksDbStorage is first touched: its class loads the library otherwise, into /tmp.
    RocksDbNativeLibrary.load(Path.of(settings.nativeLibraryDir()));
    return RocksDbStorage.open(Path.of(settings.dataDir()), settings.fsync(), stats::corruptRecordFound);
  }

  /** The wall clock, plus the test-only offset. */
  private static LongSupplier wallMillis(Settings settings) {
    long offsetMillis = settings.clockOffset().toMillis();
    return () -> System.currentTimeMillis() + offsetMillis;
  }

  private static boolean markIsTooFarAhead(Settings settings, Storage storage) {
    return HybridLogicalClock.markIsTooFarAhead(ReplicaMetadata.clockMark(storage), wallMillis(settings).getAsLong(),
        settings.maxClockOffset());
  }

  /** Durable unless the storage forgets everything anyway (the memory engine). */
  private static HybridLogicalClock clockOf(Settings settings, Storage storage) {
    if (settings.storageEngine().equals(Settings.ENGINE_MEMORY)) {
      return new HybridLogicalClock(wallMillis(settings), 0L, settings.maxClockOffset());
    }
    return HybridLogicalClock.durable(wallMillis(settings), ReplicaMetadata.clockMark(storage),
        mark -> ReplicaMetadata.saveClockMark(storage, mark), settings.maxClockOffset());
  }

  private static Behavior<Void> guardian(
      Settings settings, Storage storage, ReplicaStats stats, long replicaId, HybridLogicalClock clock,
      Membership membership, Security security) {
    java.util.Optional<TokenFile> tokens = security.tokens();
    Incarnation incarnation = membership.incarnation();
    KnownPeerIds knownPeerIds = membership.knownPeerIds();
    return Behaviors.setup(ctx -> {
      // Measurements count for ten ping intervals: an unreachable peer neither fences nor vouches.
      ClockFence fence = new ClockFence(settings.peers().size(), clock, settings.peerPingInterval().multipliedBy(10));
      Identity identity = new Identity(replicaId, membership.startSequence(), storage::sequence, incarnation, knownPeerIds,
          membership.sequences(), new DuplicateDetector(), new IdentityAlarm(replicaId), reason -> {
            fence.halt(reason); // serve nothing from here on
            try {
              ReplicaMetadata.markStateWentBackwards(storage);
            } catch (io.quorumkv.store.StorageFullException e) {
              // Without the record the next start would not discard the old records: stay halted
              // (answering nothing) rather than exit; the operator frees space and restarts.
              log.error("{}. Could not record a new incarnation, the disk is full: this replica stays halted and"
                  + " serves nothing; free space and restart it", reason);
              return;
            }
            log.error("{}. Recorded a new incarnation; stopping (exit status {}): the next start discards the old"
                + " records and rebuilds from the peers", reason, EXIT_STATE_WENT_BACKWARDS);
            new Thread(() -> System.exit(EXIT_STATE_WENT_BACKWARDS), "exit").start();
          });
      // What this replica heard its peers report survives restarts (a crash loses a few seconds
      // of it: a missed detection at worst, never a false one).
      ctx.getSystem().scheduler().scheduleWithFixedDelay(Duration.ofSeconds(5), Duration.ofSeconds(5), () -> {
        try {
          membership.sequences().saveIfChanged(saved -> ReplicaMetadata.savePeerSequences(storage, saved));
        } catch (IllegalStateException e) {
          // the storage closed: the replica is stopping
        } catch (io.quorumkv.store.StorageFullException e) {
          // the disk is full: still unsaved, so tried again in five seconds (a throw here would
          // end the schedule)
        }
      }, ctx.getSystem().executionContext());
      StoreAdmission admission = new StoreAdmission(settings.storeQueueMax(), settings.storeQueueBytesMax());
      StorageAlarm storageAlarm = new StorageAlarm(settings.storageBytesMax());
      ActorRef<StoreActor.Command> storeActor = ctx.spawn(
          StoreActor.create(settings.nodeId(), replicaId, storage, clock, stats, settings.fsync(),
              settings.maxMessageAge(), incarnation, new StoreCore.PurgeRule(settings.tombstoneGrace(),
                  settings.maxMessageAge().plus(settings.tombstones().skewMargin()),
                  settings.tombstones().purgeCheckInterval(), clockTrusted(fence),
                  settings.maxMessageAge().plus(settings.tombstones().skewMargin())),
              admission, storageAlarm, settings.deliberateBugs()),
          "store",
          DispatcherSelector.fromConfig("quorumkv.storage-dispatcher"));
      ctx.watch(storeActor);

      List<ReplicaHandle> replicas = new ArrayList<>();
      replicas.add(ReplicaHandle.local(settings.nodeId(), storeActor, admission)); // the local replica first
      List<PeerStatus> peerStatuses = new ArrayList<>();
      List<AntiEntropy.Peer> entropyPeers = new ArrayList<>();
      Map<String, AntiEntropyStatus> entropyStatuses = new HashMap<>();
      List<HintedHandoff.Peer> hintPeers = new ArrayList<>();
      List<PeerClient> peerClients = new ArrayList<>();
      Map<String, HintStatus> hintStatuses = new HashMap<>(); // filled below, read by metrics once serving
      Map<String, java.util.function.BooleanSupplier> streams = new HashMap<>(); // likewise
      ReplicaMetrics metrics = new ReplicaMetrics(stats, hintStatuses, streams, clock, fence, admission,
          storageAlarm);
      AccessAudit audit = new AccessAudit();
      metrics.countRefusals(audit);
      security.tls().ifPresent(tls -> metrics.certificateExpiry(tls.certificate()));
      // Tokens are added and revoked by editing the file: it is checked for changes every two seconds.
      tokens.ifPresent(file -> ctx.getSystem().scheduler().scheduleWithFixedDelay(Duration.ofSeconds(2),
          Duration.ofSeconds(2), file::reloadIfChanged, ctx.getSystem().dispatchers().lookup(DispatcherSelector.blocking())));
      PeerAddressBook peerBook = PeerAddressBook.of(settings.peers().stream().map(PeerAddress::host).toList(),
          ctx.getSystem().dispatchers().lookup(DispatcherSelector.blocking()));
      peerBook.refreshNow();
      // Peers' addresses change (a restarted pod, late DNS): looked up again every ten seconds, and
      // at most once a second when an unknown address makes an internal call.
      ctx.getSystem().scheduler().scheduleWithFixedDelay(Duration.ofSeconds(10), Duration.ofSeconds(10),
          peerBook::refreshSoon, ctx.getSystem().executionContext());
      for (PeerAddress peer : settings.peers()) {
        PeerClient client = new PeerClient(ctx.getSystem(), peer, settings.peerRequestTimeout(), settings.clusterSecret(),
            settings.peerRequestsInFlightMax(), settings.peerStream(),
            WireCodec.messageBytesMax(settings.valueBytesMax()), metrics,
            security.tls().map(ReplicaTls::peerClientContext));
        ReplicaHandle handle = new ReplicaHandle(peer.name(),
            ctx.spawn(RemoteReplica.create(client, replicaId), "replica-" + peer.name()));
        replicas.add(handle);
        peerClients.add(client);
        streams.put(peer.name(), client::streamOpen);
        PeerStatus status = new PeerStatus(peer);
        peerStatuses.add(status);
        ctx.spawn(PeerMonitor.create(client, status, clock, replicaId, knownPeerIds, incarnation, fence, identity,
            membership.capabilities(), settings.peerPingInterval()), "monitor-" + peer.name());
        AntiEntropyStatus entropy = new AntiEntropyStatus();
        entropyStatuses.put(peer.name(), entropy);
        entropyPeers.add(new AntiEntropy.Peer(handle, client, entropy));
        HintStatus hintStatus = new HintStatus();
        hintStatuses.put(peer.name(), hintStatus);
        hintPeers.add(new HintedHandoff.Peer(handle, status, hintStatus));
      }
      MissedWrites missedWrites = MissedWrites.NONE;
      Settings.Hints hintSettings = settings.hints();
      if (hintSettings.enabled() && !hintPeers.isEmpty()) {
        ActorRef<HintedHandoff.Command> hints = ctx.spawn(HintedHandoff.create(storage, replicas.get(0), List.copyOf(hintPeers), clock, replicaId,
            new HintedHandoff.Limits(hintSettings.expiry(), hintSettings.countMaxPerTarget(),
                hintSettings.bytesMaxPerTarget(), hintSettings.replayInterval(), hintSettings.replayPerTick(),
                hintSettings.inFlightMax(), settings.peerRequestTimeout().multipliedBy(2)),
            System::currentTimeMillis, incarnation, clockTrusted(fence)),
            "hinted-handoff", DispatcherSelector.fromConfig("quorumkv.storage-dispatcher"));
        missedWrites = (key, missed) -> hints.tell(new HintedHandoff.RecordHints(key, missed));
      }
      Settings.AntiEntropy entropy = settings.antiEntropy();
      if (entropy.enabled()) {
        ctx.spawn(AntiEntropy.create(storeActor, replicas.get(0), List.copyOf(entropyPeers), clock, replicaId,
            entropy.interval(), new AntiEntropySession.Limits(entropy.bucketsPerRound(), entropy.keysPerRound(),
                entropy.inFlightMax(), settings.peerRequestTimeout().multipliedBy(2), entropy.roundTimeout()),
            incarnation, clockTrusted(fence), settings.maxMessageAge().plus(settings.tombstones().skewMargin()),
            settings.maxClockOffset()),
            "anti-entropy");
      }

      ctx.spawn(TombstoneSweeper.create(storeActor, List.copyOf(peerClients), membership.retired(), clock, replicaId,
          settings.tombstones().sweepInterval(), settings.tombstones().sweepMax(), clockTrusted(fence)),
          "tombstone-sweeper");

      ActorRef<Coordinators.Command> coordinators = ctx.spawn(Coordinators.create(new Coordinators.Settings(
          List.copyOf(replicas), clock, replicaId, stats, missedWrites, settings.writeTimeout(), settings.readTimeout(),
          settings.requestsInFlightMax(), settings.fanout(), fence, () -> identity.alarm().reason(), storageAlarm,
          name -> peerStatuses.stream().filter(status -> status.snapshot().peer().name().equals(name))
              .allMatch(status -> status.snapshot().reachable()),
          settings.fastRound(), settings.deliberateBugs())), "coordinators");
      // Proposals older than a write could still be waiting on, given the clock offset.
      ctx.spawn(io.quorumkv.coordinator.SettleSweeper.create(storeActor, coordinators, List.copyOf(replicas),
          membership.retired()::isRetired, clock, replicaId, Duration.ofSeconds(1), settings.writeTimeout().plus(settings.maxClockOffset()),
          settings.peerRequestTimeout().multipliedBy(2), clockTrusted(fence)), "settle-sweeper");

      int n = settings.replicas();
      ClusterView view = new ClusterView(settings.nodeId(), replicaId, List.copyOf(peerStatuses),
          Map.copyOf(entropyStatuses), Map.copyOf(hintStatuses), incarnation, membership.retired(), stats,
          Consistency.QUORUM.required(n), Consistency.QUORUM.required(n), fence, identity, storageAlarm);
      Route routes = concatRoutes(ctx, settings, storage, storeActor, admission, coordinators, clock, fence, identity,
          replicaId, membership, view, metrics, audit, peerBook, security)
          .seal(ErrorHandling.rejections(), ErrorHandling.exceptions());
      bind(ctx, settings, routes, replicaId, peerBook, security.tls().map(tls -> new GuardedServer.Tls(
          tls::serverEngine, (address, reason) -> audit.tlsHandshakeFailed(address.getHostAddress(), reason))));
      return Behaviors.receive(Void.class)
          .onSignal(Terminated.class, terminated -> onStoreStopped(ctx))
          .build();
    });
  }

  private static java.util.function.BooleanSupplier clockTrusted(ClockFence fence) {
    return () -> fence.reason().isEmpty();
  }

  /** The store stops only on a storage failure (or at shutdown): a replica without it must not serve. */
  private static Behavior<Void> onStoreStopped(ActorContext<Void> ctx) {
    if (CoordinatedShutdown.get(ctx.getSystem()).getShutdownReason().isEmpty()) {
      log.error("Storage failed; stopping the replica (exit status {})", EXIT_STORAGE_FAILED);
      new Thread(() -> System.exit(EXIT_STORAGE_FAILED), "exit").start();
    }
    return Behaviors.same();
  }

  private static Route concatRoutes(
      ActorContext<Void> ctx, Settings settings, Storage storage, ActorRef<StoreActor.Command> store,
      StoreAdmission admission, ActorRef<Coordinators.Command> coordinators, HybridLogicalClock clock, ClockFence fence,
      Identity identity, long replicaId, Membership membership, ClusterView view, ReplicaMetrics metrics,
      AccessAudit audit, PeerAddressBook peerBook, Security security) {
    java.util.Optional<TokenFile> tokens = security.tokens();
    java.util.concurrent.Executor blocking = ctx.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
    NetworkAccess access = new NetworkAccess(peerBook, settings.internalAllow(),
        security.tls().map(ReplicaTls::certificates));
    logSecurity(settings, security);
    InternalRoutes internal = new InternalRoutes(store, admission, ctx.getSystem(), settings, clock, fence, replicaId,
        membership.knownPeerIds(), identity, access, audit);
    PublicRoutes pub = new PublicRoutes(coordinators, ctx.getSystem().scheduler(), settings, view, metrics, tokens,
        audit, membership.capabilities());
    AdminRoutes admin = new AdminRoutes(settings, membership.retired(), snapshots(settings, storage, replicaId),
        blocking, access, audit, tokens);
    return internal.concat(internal.routes(), admin.routes(), pub.routes());
  }

  /** What is protected and how, once at start; what is open, as a warning. */
  private static void logSecurity(Settings settings, Security security) {
    java.util.Optional<ReplicaTls> tls = security.tls();
    if (tls.isEmpty()) {
      log.warn("Plain HTTP on port {}: requests, values and tokens travel in clear (set TLS_CERT_FILE, TLS_KEY_FILE"
          + " and TLS_CA_FILE; docs/operating.md, \"TLS\")", settings.port());
    } else {
      java.security.cert.X509Certificate certificate = tls.get().certificate();
      log.info("HTTPS only on port {}, certificate {} valid until {}", settings.port(),
          certificate.getSubjectX500Principal().getName(), certificate.getNotAfter().toInstant());
      log.info("Mutual TLS between replicas: internal calls need a peer's certificate (naming a PEER_*_HOST, with"
          + " client authentication{}) as well as a peer's address", settings.tls().peerCaFile().isEmpty() ? ""
              : ", signed by " + settings.tls().peerCaFile());
    }
    for (String secretFile : List.of(settings.tls().keyFile(), settings.tokensFile())) {
      if (readableByOthers(secretFile)) {
        log.warn("{} is readable by every user of this host: restrict it to the replica's user and group (chmod 640)",
            secretFile);
      }
    }
    if (security.tokens().isEmpty()) {
      log.warn("The public API on port {} answers anyone who reaches it (no AUTH_TOKENS_FILE); admin calls are"
          + " accepted from loopback only (docs/operating.md, \"Network access\")", settings.port());
    } else {
      log.info("Client tokens from {} ({} tokens): every /kv and /cluster request{} needs one",
          security.tokens().get().path(), security.tokens().get().book().size(),
          settings.metricsAuth() ? " and /metrics" : "");
    }
    log.info("Internal calls are accepted from loopback and the peers' addresses{} only (docs/operating.md,"
        + " \"Network access\")", settings.internalAllow().isEmpty() ? "" : " and " + settings.internalAllow());
  }

  /** Whether {@code file} (empty: none) grants read permission to others (POSIX file systems only). */
  private static boolean readableByOthers(String file) {
    if (file.isEmpty()) {
      return false;
    }
    try {
      return java.nio.file.Files.getPosixFilePermissions(Path.of(file))
          .contains(java.nio.file.attribute.PosixFilePermission.OTHERS_READ);
    } catch (java.io.IOException | UnsupportedOperationException e) {
      return false; // unreadable files were refused already; other file systems are not judged
    }
  }

  /** How {@code POST /admin/snapshot} takes a snapshot; none for the memory engine. */
  private static java.util.Optional<java.util.function.Function<String, DataSnapshots.Taken>> snapshots(
      Settings settings, Storage storage, long replicaId) {
    if (!(storage instanceof RocksDbStorage rocks)) {
      return java.util.Optional.empty();
    }
    String origin = "replica " + settings.nodeId() + " (replica id " + Version.hex(replicaId) + ", data directory "
        + Path.of(settings.dataDir()).toAbsolutePath() + ")";
    return java.util.Optional.of(name -> DataSnapshots.take(rocks, Path.of(settings.snapshotDir()), name, origin));
  }



  private static void bind(
      ActorContext<Void> ctx, Settings settings, Route routes, long replicaId, PeerAddressBook peers,
      java.util.Optional<GuardedServer.Tls> tls) {
    ActorSystem<Void> system = ctx.getSystem();
    Settings.Connections connections = settings.connections();
    GuardedServer.Limits limits = new GuardedServer.Limits(connections.max(), connections.perAddressMax(),
        connections.reservedForPeers(), connections.headTimeout(),
        system.settings().config().getDuration("akka.http.server.idle-timeout"), peers::knows);
    GuardedServer.bind(system, settings.listenHost(), settings.port(), routes, limits, tls)
        .whenComplete((binding, failure) -> {
          if (failure != null) {
            System.err.println("quorumkv: cannot listen on " + settings.listenHost() + ":" + settings.port()
                + ": " + failure.getMessage());
            // Exit from a fresh thread: the JVM's shutdown hook waits for Akka to stop.
            new Thread(() -> System.exit(EXIT_CANNOT_LISTEN), "exit").start();
            return;
          }
          // On SIGTERM: stop accepting connections, give requests in flight up to 5 s, then stop
          // the actors (the StoreActor closes the storage last).
          CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeServiceUnbind(), "log-stop",
              () -> {
                log.info("Stopping: no new requests, finishing the ones in flight");
                return java.util.concurrent.CompletableFuture.completedFuture(akka.Done.getInstance());
              });
          CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseServiceUnbind(), "http-unbind",
              binding::unbind);
          CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseServiceRequestsDone(), "http-terminate",
              () -> binding.terminate(Duration.ofSeconds(4)));
          log.info("Replica [{}] (replica id {}) listening on {}:{} ({}), N={}, peers {}",
              settings.nodeId(), Version.hex(replicaId), settings.listenHost(), settings.port(),
              tls.isPresent() ? "HTTPS" : "HTTP",
              settings.replicas(), settings.peers().stream().map(p -> p.name() + "@" + p.address()).toList());
        });
  }
}
