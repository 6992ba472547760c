package io.quorumkv.simulation;

import io.quorumkv.coordinator.Consistency;
import io.quorumkv.coordinator.ReadResult;
import io.quorumkv.coordinator.ReadRound;
import io.quorumkv.coordinator.RoundEffect;
import io.quorumkv.coordinator.RoundEvent;
import io.quorumkv.coordinator.WriteResult;
import io.quorumkv.coordinator.WriteRound;
import io.quorumkv.config.FsyncMode;
import io.quorumkv.faults.DeliberateBug;
import io.quorumkv.store.BucketHashes;
import io.quorumkv.replication.AntiEntropyPlan;
import io.quorumkv.replication.HintBook;
import io.quorumkv.replication.HintStatus;
import io.quorumkv.replication.TombstoneSettlement;
import io.quorumkv.store.Hint;
import io.quorumkv.store.Incarnation;
import io.quorumkv.store.Record;
import io.quorumkv.store.ReplicaProtocol.Answer;
import io.quorumkv.store.ReplicaProtocol.Applied;
import io.quorumkv.store.ReplicaProtocol.Apply;
import io.quorumkv.store.ReplicaProtocol.Cause;
import io.quorumkv.store.ReplicaProtocol.CheckTombstone;
import io.quorumkv.store.ReplicaProtocol.Entries;
import io.quorumkv.store.ReplicaProtocol.Buckets;
import io.quorumkv.store.ReplicaProtocol.GetBuckets;
import io.quorumkv.store.ReplicaProtocol.Unavailable;
import io.quorumkv.store.ReplicaProtocol.Entry;
import io.quorumkv.store.ReplicaProtocol.ListEntries;
import io.quorumkv.store.ReplicaProtocol.Read;
import io.quorumkv.store.ReplicaProtocol.RecordHeld;
import io.quorumkv.store.ReplicaProtocol.Reply;
import io.quorumkv.store.ReplicaProtocol.SettleTombstone;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.ReplicaProtocol.StoreRequest;
import io.quorumkv.store.ReplicaProtocol.TombstoneHeld;
import io.quorumkv.store.ReplicaStats;
import io.quorumkv.store.StorageAlarm;
import io.quorumkv.store.StoreAdmission;
import io.quorumkv.store.StoreCore;
import io.quorumkv.store.Value;
import io.quorumkv.version.HybridLogicalClock;
import io.quorumkv.version.Version;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One replica of the simulation: the production {@link StoreCore} on a {@link SimDisk}, the
 * production {@link WriteRound} and {@link ReadRound} for its coordinators, and the background
 * work (hinted handoff, the tombstone sweeper, anti-entropy), all driven by the simulation's
 * event loop instead of actors and timers.
 *
 * <p>The background work runs the same pure code as the production actors: {@link HintBook}
 * (which hints are kept, refreshed, expired and let go), {@link TombstoneSettlement} (when a
 * tombstone settles) and {@link AntiEntropyPlan} (which buckets to list, which records move
 * which way). What stays the simulation's own is what those actors add around them: timers,
 * pace, in-flight bounds, the pings that gate hint replay (docs/testing.md, "The deterministic
 * simulation").
 */
final class SimReplica {

  /** Whom an answer goes back to: a task (a round or a background step) on some replica. */
  record Caller(String replica, long task, long round) {}

  private final Simulation world;
  final String name;
  long replicaId;
  SimDisk disk;
  /** The incarnation state as the replica's metadata holds it: it survives crashes. */
  private Incarnation.State persistedIncarnation = Incarnation.State.READY;
  private Incarnation incarnation;
  /** The number of the current check of the peers' proposals (a rebuilding replica's). */
  private long proposalCheck;
  private final FsyncMode fsync;
  /** This replica's wall clock minus simulated time; a restart may find the clock set differently. */
  private long clockOffsetMillis;
  private final List<String> peers;
  private final Set<DeliberateBug> bugs;

  private boolean up;
  private int epoch;
  private HybridLogicalClock clock;
  private StoreCore<Caller> core;
  private ReplicaStats stats;
  /** The tasks of this process waiting for answers; a crash forgets them all. */
  private final Map<Long, Consumer<Reply>> tasks = new HashMap<>();
  /**
   * Requests sent to peers and not answered yet, by task, peer and round: as a
   * {@code RemoteReplica}'s pending call, each ends with the first answer or with a failure
   * (timeout, refused connection), and a later answer is dropped.
   */
  private final Map<String, Integer> awaiting = new HashMap<>();
  private final Set<Hint> replaying = new HashSet<>();
  private HintBook hints;
  private boolean sweeping;
  private boolean settling;
  private boolean antiEntropyRunning;
  /**
   * Whether a conditional write tries the fast round: the production gate, except that every peer
   * counts as reachable (so fast accepts to a replica that is down wait out their timer, then fall back).
   */
  private io.quorumkv.coordinator.FastRoundGate fastRounds;

  SimReplica(Simulation world, String name, long replicaId, List<String> peers, Set<DeliberateBug> bugs,
      FsyncMode fsync) {
    this.world = world;
    this.name = name;
    this.replicaId = replicaId;
    this.peers = List.copyOf(peers);
    this.bugs = Set.copyOf(bugs);
    this.fsync = fsync;
    this.disk = new SimDisk(fsync == FsyncMode.ALWAYS);
  }

  boolean isUp() {
    return up;
  }

  long wallMillis() {
    return world.now() + clockOffsetMillis;
  }

  /** Starts the process on what its disk durably holds; its clock starts above the durable mark. */
  void start() {
    Simulation.Config config = world.config();
    up = true;
    epoch++;
    clockOffsetMillis = world.clockOffsetMillis(); // each start reads a wall clock that may have moved
    clock = HybridLogicalClock.durable(this::wallMillis, disk.clockMark(), disk::putClockMark, config.maxClockOffset());
    stats = new ReplicaStats();
    fastRounds = new io.quorumkv.coordinator.FastRoundGate(
        config.fanout().quorumFirst() ? config.fanout().hedgeDelay() : io.quorumkv.coordinator.FastRoundGate.WAIT_WITHOUT_HEDGE,
        peer -> world.replica(peer).isUp());
    Map<String, HintStatus> hintStatuses = new HashMap<>();
    peers.forEach(peer -> hintStatuses.put(peer, new HintStatus()));
    hints = new HintBook(disk, hintStatuses, new HintBook.Bounds(config.hintExpiry(), 10_000, 1L << 20),
        this::wallMillis);
    incarnation = new Incarnation(replicaId, persistedIncarnation, peers, state -> persistedIncarnation = state,
        this::wallMillis);
    java.time.Duration messagesOutlived = config.maxMessageAge().plus(config.maxClockOffset().multipliedBy(2));
    StoreCore.PurgeRule purgeRule = new StoreCore.PurgeRule(config.tombstoneGrace(), messagesOutlived,
        config.purgeInterval(), () -> true, messagesOutlived);
    core = new StoreCore<>(name, replicaId, disk, clock, stats, config.maxMessageAge(), incarnation, purgeRule,
        new StoreAdmission(Long.MAX_VALUE, Long.MAX_VALUE), new StorageAlarm(StorageAlarm.NO_QUOTA), bugs,
        this::wallMillis, new StoreCore.Outbox<>() {
          @Override
          public void answer(Caller caller, Answer answer) {
            SimReplica asker = world.replica(caller.replica());
            Reply reply = new Reply(name, caller.round(), answer);
            world.network().send(name, caller.replica(), () -> asker.receiveReply(caller.task(), reply), () -> {});
          }

          @Override
          public void flushSoon() {
            whileUp(0, () -> core.flush());
          }

          @Override
          public boolean startScan(java.util.function.Supplier<Runnable> prepare) {
            prepare.get().run();
            return true;
          }
        });
    every(config.purgeInterval().toMillis(), () -> core.purge());
    every(config.hintInterval().toMillis(), this::replayHints);
    every(config.sweepInterval().toMillis(), this::sweep);
    every(config.antiEntropyInterval().toMillis(), this::antiEntropy);
    every(1_000, this::settleSweep);
    if (core.flushesLate()) {
      every(1000, () -> core.lateFlush());
    }
    if (fsync == FsyncMode.PERIODIC) {
      every(100, () -> core.sync()); // as StoreActor's SyncTick
    }
  }

  /** The process dies: no clean stop, and what was not synced is lost. */
  void crash() {
    world.counted("tombstones purged", stats.tombstonesPurged());
    world.counted("paxos states forgotten", stats.paxosStatesForgotten());
    up = false;
    tasks.clear();
    awaiting.clear();
    replaying.clear();
    sweeping = false;
    settling = false;
    antiEntropyRunning = false;
    core = null;
    disk.crash();
  }

  private void whileUp(long delayMillis, Runnable action) {
    int started = epoch;
    world.loop().after(delayMillis, () -> {
      if (up && epoch == started) {
        action.run();
      }
    });
  }

  private void every(long intervalMillis, Runnable action) {
    int started = epoch;
    long first = 1 + world.random().nextLong(intervalMillis);
    world.loop().after(first, new Runnable() {
      @Override
      public void run() {
        if (up && epoch == started) {
          action.run();
          world.loop().after(intervalMillis, this);
        }
      }
    });
  }

  // ---------------------------------------------------------------- messages

  /** A request arrives (from the network, or from this replica itself). */
  void receive(Caller caller, StoreRequest request) {
    if (up) {
      core.handle(caller, request);
    }
  }

  void receiveReply(long task, Reply reply) {
    if (up && (reply.replica().equals(name) || stopAwaiting(awaitKey(task, reply.replica(), reply.round())))) {
      deliver(task, reply);
    }
  }

  private void deliver(long task, Reply reply) {
    Consumer<Reply> waiting = tasks.get(task);
    if (waiting != null) {
      waiting.accept(reply);
    }
  }

  private void send(long task, String to, StoreRequest request, long round) {
    SimReplica target = world.replica(to);
    Caller caller = new Caller(name, task, round);
    if (to.equals(name)) { // a local call: the store's mailbox, no timeout
      world.network().send(name, to, () -> target.receive(caller, request), () -> {});
      return;
    }
    String key = awaitKey(task, to, round);
    awaiting.merge(key, 1, Integer::sum);
    Runnable failed = () -> {
      if (stopAwaiting(key)) {
        deliver(task, new Reply(to, round, new Unavailable("peer request failed (timeout or refused connection)")));
      }
    };
    world.network().send(name, to, () -> target.receive(caller, request), () -> whileUp(0, failed));
    whileUp(world.config().peerTimeout().toMillis(), failed);
  }

  private static String awaitKey(long task, String replica, long round) {
    return task + "/" + replica + "/" + round;
  }

  /** Ends one pending request: true if it was still pending (its first answer or failure). */
  private boolean stopAwaiting(String key) {
    Integer count = awaiting.get(key);
    if (count == null) {
      return false;
    }
    if (count == 1) {
      awaiting.remove(key);
    } else {
      awaiting.put(key, count - 1);
    }
    return true;
  }

  /** Registers a task's answer handler, forgotten after {@code timeoutMillis} (then {@code onTimeout} runs). */
  private long task(Consumer<Reply> onAnswer, long timeoutMillis, Runnable onTimeout) {
    long id = world.nextTaskId();
    tasks.put(id, onAnswer);
    whileUp(timeoutMillis, () -> {
      if (tasks.remove(id) != null) {
        onTimeout.run();
      }
    });
    return id;
  }

  private Stamp stamp() {
    return new Stamp(replicaId, clock.peek());
  }

  // ---------------------------------------------------------------- coordinators

  /** This replica first, then its peers in an order of the seed's choosing (the coordinators rotate them). */
  private List<String> replicaOrder() {
    List<String> order = new ArrayList<>(peers);
    java.util.Collections.shuffle(order, world.random());
    order.add(0, name);
    return order;
  }

  void write(String key, Optional<Value> value, long ttlMillis, Consumer<WriteResult> done) {
    Simulation.Config config = world.config();
    WriteRound round = new WriteRound(new WriteRound.Write(key, value, ttlMillis), Consistency.QUORUM, replicaOrder(),
        clock,
        replicaId, stats, config.fanout(), bugs.contains(DeliberateBug.ONE_ROUND_WRITES), world.random());
    drive(round::step, round::finished, key, config.writeTimeout().toMillis(), done);
  }

  void cas(String key, io.quorumkv.coordinator.Condition condition, Optional<Value> value, long ttlMillis,
      Consumer<WriteResult> done) {
    Simulation.Config config = world.config();
    java.time.Duration fastWait = fastRounds.fastWait(key, peers, world.now());
    io.quorumkv.coordinator.ConditionalWriteRound round = new io.quorumkv.coordinator.ConditionalWriteRound(key,
        new io.quorumkv.coordinator.PaxosRound.Conditional(condition, value, ttlMillis), Consistency.QUORUM,
        replicaOrder(), clock, replicaId, world.random(), fastWait,
        bugs.contains(DeliberateBug.COMPARE_WITHOUT_CONSENSUS));
    drive(round::step, round::finished, key, config.writeTimeout().toMillis(), result -> {
      if (round.fastRefused()) {
        fastRounds.refused(key, world.now());
      }
      round.fastUnavailable().forEach(replica -> fastRounds.unavailable(replica, world.now()));
      switch (round.fastPath()) {
        case CHOSEN -> world.counted("fast chosen");
        case FELL_BACK -> world.counted("fast fell back");
        default -> { }
      }
      done.accept(result);
    });
  }

  void read(String key, Consumer<ReadResult> done) {
    Simulation.Config config = world.config();
    ReadRound round = new ReadRound(key, Consistency.QUORUM, replicaOrder(), clock, replicaId, stats,
        config.fanout(), bugs.contains(DeliberateBug.NO_READ_WRITE_BACK), world.random());
    drive(round::step, round::finished, key, config.readTimeout().toMillis(), done);
  }

  /**
   * As ListCoordinator: the replicas' pages (values from the local one), then a quorum read of
   * each key the merge could not take as it is, then the page.
   */
  void list(String prefix, String start, int limit, Consumer<io.quorumkv.coordinator.ListResult> done) {
    Simulation.Config config = world.config();
    io.quorumkv.coordinator.ListRound round = new io.quorumkv.coordinator.ListRound(prefix, start, limit, true,
        Consistency.QUORUM, replicaOrder(), clock, replicaId, config.fanout());
    drive(round::step, round::finished, prefix, config.readTimeout().toMillis(), outcome -> {
      if (outcome instanceof io.quorumkv.coordinator.ListRound.Failed failed) {
        done.accept(failed.reason());
        return;
      }
      io.quorumkv.coordinator.ListPlan.Merged merged = ((io.quorumkv.coordinator.ListRound.Merged) outcome).merged();
      List<String> toRead = merged.slots().stream()
          .filter(io.quorumkv.coordinator.ListPlan.NeedsRead.class::isInstance)
          .map(io.quorumkv.coordinator.ListPlan.Slot::key).toList();
      Map<String, ReadResult> reads = new HashMap<>();
      Runnable assemble = () -> done.accept(io.quorumkv.coordinator.ListPlan.assemble(merged, reads, true,
              io.quorumkv.store.ListPages.VALUE_BYTES_MAX, start)
          .<io.quorumkv.coordinator.ListResult>map(page -> page)
          .orElse(new io.quorumkv.coordinator.QuorumNotReached(
              io.quorumkv.coordinator.Phase.READ, 0, 2, 3)));
      if (toRead.isEmpty()) {
        assemble.run();
        return;
      }
      world.counted("list key reads", toRead.size());
      int[] left = {toRead.size()};
      for (String key : toRead) {
        read(key, result -> {
          reads.put(key, result);
          if (--left[0] == 0) {
            assemble.run();
          }
        });
      }
    });
  }

  /** What a coordinator actor and its RoundDriver do, on the event loop. */
  private <R> void drive(Function<RoundEvent, List<RoundEffect<R>>> step, BooleanSupplier finished, String key,
      long deadlineMillis, Consumer<R> done) {
    long id = world.nextTaskId();
    // A coordinator's timers are single timers by kind: starting one replaces the one pending.
    long[] hedgeTimer = {0};
    long[] backoffTimer = {0};
    Consumer<RoundEvent> handle = new Consumer<>() {
      @Override
      public void accept(RoundEvent event) {
        for (RoundEffect<R> effect : step.apply(event)) {
          if (effect instanceof RoundEffect.Send<R> send) {
            send(id, send.replica(), send.request(), send.round());
          } else if (effect instanceof RoundEffect.Reply<R> reply) {
            done.accept(reply.result());
          } else if (effect instanceof RoundEffect.Unacknowledged<R> missed) {
            missed(missed.key(), missed.replicas());
          } else if (effect instanceof RoundEffect.StartHedgeTimer<R> hedge) {
            long timer = ++hedgeTimer[0];
            whileUp(hedge.delay().toMillis(), () -> {
              if (tasks.containsKey(id) && hedgeTimer[0] == timer) {
                accept(new RoundEvent.HedgeDelayPassed());
              }
            });
          } else if (effect instanceof RoundEffect.StartBackoffTimer<R> backoff) {
            long timer = ++backoffTimer[0];
            whileUp(backoff.delay().toMillis(), () -> {
              if (tasks.containsKey(id) && backoffTimer[0] == timer) {
                accept(new RoundEvent.BackoffPassed());
              }
            });
          } else {
            throw new IllegalStateException("no way to carry out " + effect);
          }
        }
        if (finished.getAsBoolean()) {
          tasks.remove(id);
        }
      }
    };
    tasks.put(id, reply -> handle.accept(new RoundEvent.Answered(reply.replica(), reply.round(), reply.answer())));
    whileUp(deadlineMillis, () -> {
      if (tasks.containsKey(id)) {
        handle.accept(new RoundEvent.DeadlinePassed());
        tasks.remove(id);
      }
    });
    handle.accept(new RoundEvent.Started());
  }

  // ---------------------------------------------------------------- hinted handoff

  private void missed(String key, List<String> replicas) {
    hints.record(key, replicas);
  }

  /** As HintedHandoff: read the record held now, apply it on the peer, let the hint go once the peer holds it. */
  private void replayHints() {
    if (!incarnation.isReady()) {
      return; // a replica that is not ready pushes nothing
    }
    Simulation.Config config = world.config();
    for (String peer : peers) {
      if (!hints.hasHints(peer)) {
        continue;
      }
      for (Hint hint : hints.stored(peer, config.hintsPerTick())) {
        if (replaying.contains(hint)) {
          continue;
        }
        if (hints.expireIfDue(hint)) {
          world.counted("hints expired");
          continue;
        }
        replaying.add(hint);
        long step = config.stepTimeout().toMillis();
        long[] task = new long[1];
        Stamp readAt = stamp(); // as HintedHandoff: the copy carries the stamp from before its record was read
        task[0] = task(reply -> {
          if (reply.round() == 1 && reply.answer() instanceof RecordHeld held) {
            if (held.record().isEmpty()) {
              hints.nothingToHandOff(hint);
              finishHint(task[0], hint);
              return;
            }
            Record record = held.record().get();
            send(task[0], peer, new Apply(hint.key(), record, readAt, Cause.HINT), 2);
            tasks.put(task[0], applied -> {
              if (HintBook.holds(applied.answer(), record.version())) {
                hints.delivered(hint);
                world.counted("hints replayed");
              }
              finishHint(task[0], hint);
            });
          } else {
            finishHint(task[0], hint);
          }
        }, step, () -> replaying.remove(hint));
        send(task[0], name, new Read(hint.key(), readAt, Cause.HINT), 1);
      }
    }
  }

  private void finishHint(long task, Hint hint) {
    tasks.remove(task);
    replaying.remove(hint);
  }

  // ---------------------------------------------------------------- settle sweeper

  /** As SettleSweeper: settle, one at a time after a random delay, the keys the store asks to have settled. */
  private void settleSweep() {
    if (settling) {
      return;
    }
    Simulation.Config config = world.config();
    long olderThan = clock.peek() - HybridLogicalClock.fromMillis(
        config.writeTimeout().plus(config.maxClockOffset()).toMillis());
    settling = true;
    settleNext(new ArrayList<>(core.keysToSettle(100, olderThan)));
  }

  private void settleNext(List<String> left) {
    if (left.isEmpty()) {
      forgetNext(new ArrayList<>(core.keysToForget(100)));
      return;
    }
    String key = left.remove(0);
    whileUp(world.random().nextInt(201), () -> {
      io.quorumkv.coordinator.PaxosRound round = new io.quorumkv.coordinator.PaxosRound(key,
          new io.quorumkv.coordinator.PaxosRound.Settle(), Consistency.QUORUM, replicaOrder(), clock, replicaId,
          world.random(), Cause.SETTLE);
      world.counted("settles");
      drive(round::step, round::finished, key, world.config().writeTimeout().toMillis(),
          outcome -> settleNext(left));
    });
  }

  /** As SettleSweeper: forget a key's Paxos state once every replica says it holds no proposal. */
  private void forgetNext(List<String> left) {
    if (left.isEmpty()) {
      settling = false;
      return;
    }
    String key = left.remove(0);
    List<String> all = new ArrayList<>(peers);
    all.add(name);
    io.quorumkv.coordinator.ForgetCheck check = new io.quorumkv.coordinator.ForgetCheck(all.size());
    long[] task = new long[1];
    task[0] = task(reply -> {
      io.quorumkv.coordinator.ForgetCheck.Decision decision = check.answered(
          !(reply.answer() instanceof io.quorumkv.store.ReplicaProtocol.PaxosHeld held) || held.holds());
      if (decision == io.quorumkv.coordinator.ForgetCheck.Decision.WAITING) {
        return;
      }
      tasks.remove(task[0]);
      if (decision == io.quorumkv.coordinator.ForgetCheck.Decision.FORGET) {
        for (String replica : all) {
          send(0, replica, new io.quorumkv.store.ReplicaProtocol.ForgetPaxos(key, stamp()), 2);
        }
      }
      forgetNext(left);
    }, world.config().stepTimeout().toMillis() * 2, () -> forgetNext(left));
    for (String replica : all) {
      send(task[0], replica, new io.quorumkv.store.ReplicaProtocol.CheckPaxos(key, stamp()), 1);
    }
  }

  // ---------------------------------------------------------------- tombstone sweeper

  /** As TombstoneSweeper: settle a tombstone only once every replica says it holds that very one. */
  private void sweep() {
    if (sweeping) {
      return;
    }
    long olderThan = clock.peek() - HybridLogicalClock.fromMillis(world.config().sweepInterval().toMillis());
    List<Entry> tombstones = core.unsettledTombstones(100, olderThan);
    if (!tombstones.isEmpty()) {
      sweeping = true;
      sweepNext(new ArrayList<>(tombstones));
    }
  }

  private void sweepNext(List<Entry> left) {
    if (left.isEmpty()) {
      sweeping = false;
      return;
    }
    List<String> all = new ArrayList<>(peers);
    all.add(name);
    TombstoneSettlement settlement = new TombstoneSettlement(left.remove(0), all.size());
    Entry tombstone = settlement.tombstone();
    long step = world.config().stepTimeout().toMillis();
    long[] task = new long[1];
    task[0] = task(reply -> {
      TombstoneSettlement.Decision decision =
          settlement.answered(reply.answer() instanceof TombstoneHeld held && held.holds());
      if (decision == TombstoneSettlement.Decision.WAITING) {
        return;
      }
      tasks.remove(task[0]);
      if (decision == TombstoneSettlement.Decision.SETTLE) {
        for (String replica : all) {
          send(0, replica, new SettleTombstone(tombstone.key(), tombstone.version(), stamp()), 2);
        }
        world.counted("tombstones settled");
      }
      sweepNext(left);
    }, step * 2, () -> sweepNext(left));
    for (String replica : all) {
      send(task[0], replica, new CheckTombstone(tombstone.key(), tombstone.version(), stamp()), 1);
    }
  }

  // ---------------------------------------------------------------- anti-entropy

  /**
   * As AntiEntropySession: compare both sides' bucket hashes, list the entries of the buckets
   * that differ on both sides, then move each record from the newer side to the other.
   */
  private void antiEntropy() {
    if (antiEntropyRunning) {
      return;
    }
    boolean pullOnly = !incarnation.isReady(); // a replica that is not ready pushes nothing
    if (pullOnly && incarnation.step() == Incarnation.Step.WAITING) {
      Simulation.Config config = world.config();
      incarnation.proposalBound(config.maxMessageAge().plus(config.maxClockOffset().multipliedBy(2)),
          config.maxClockOffset()).ifPresent(this::checkPeersProposals);
      return;
    }
    antiEntropyRunning = true;
    String peer = peers.get(world.random().nextInt(peers.size()));
    askBoth(peer, new GetBuckets(stamp()), Buckets.class, (ours, theirs) -> {
      AntiEntropyPlan.Buckets differing =
          AntiEntropyPlan.buckets(ours.hashes(), theirs.hashes(), BucketHashes.BUCKETS, world.random());
      if (differing.chosen().isEmpty()) {
        antiEntropyRunning = false;
        if (pullOnly) {
          incarnation.pulledEverythingFrom(peer);
        }
      } else {
        askBoth(peer, new ListEntries(differing.chosen(), StoreCore.ENTRIES_MAX, pullOnly, stamp()), Entries.class,
            (local, remote) -> compare(peer, local, remote, pullOnly && !differing.incomplete()));
      }
    });
  }

  /** As AntiEntropy for a rebuilding replica: every peer must hold no proposal from before the rebuild. */
  private void checkPeersProposals(long boundMillis) {
    long check = ++proposalCheck;
    Set<String> clear = new HashSet<>();
    long[] task = new long[1];
    task[0] = task(reply -> {
      if (check != proposalCheck) {
        tasks.remove(task[0]);
        return;
      }
      if (reply.answer() instanceof io.quorumkv.store.ReplicaProtocol.PaxosHeld held && !held.holds()) {
        clear.add(reply.replica());
        if (clear.size() == peers.size()) {
          tasks.remove(task[0]);
          world.counted("rebuild proposal checks passed");
          incarnation.peersHoldNoOldProposal();
        }
      }
    }, world.config().stepTimeout().toMillis(), () -> {});
    for (String peer : peers) {
      send(task[0], peer, new io.quorumkv.store.ReplicaProtocol.HoldsProposalsBefore(
          HybridLogicalClock.fromMillis(boundMillis), stamp()), 1);
    }
  }

  /** The disk is lost: the process dies, and starts again on an empty disk under a new replica id, rebuilding. */
  void replace() {
    if (up) {
      crash();
    }
    disk = new SimDisk(fsync == FsyncMode.ALWAYS);
    replicaId = world.random().nextLong() | 1;
    persistedIncarnation = Incarnation.State.REBUILDING;
    world.counted("replacements");
  }

  boolean isReady() {
    return up && incarnation.isReady();
  }

  /**
   * Sends {@code request} to this replica and {@code peer}, then hands {@code both} their two
   * answers (this replica's first); any other answer, or none in time, ends the round.
   */
  private <A extends Answer> void askBoth(String peer, StoreRequest request, Class<A> type,
      java.util.function.BiConsumer<A, A> both) {
    Map<String, A> answers = new HashMap<>();
    long[] task = new long[1];
    task[0] = task(reply -> {
      if (!type.isInstance(reply.answer())) {
        tasks.remove(task[0]);
        antiEntropyRunning = false;
        return;
      }
      answers.put(reply.replica(), type.cast(reply.answer()));
      if (answers.size() == 2) {
        tasks.remove(task[0]);
        both.accept(answers.get(name), answers.get(peer));
      }
    }, world.config().stepTimeout().toMillis(), () -> antiEntropyRunning = false);
    send(task[0], name, request, 1);
    send(task[0], peer, request, 1);
  }

  /** @param rebuildPull a rebuilding replica's pull of every differing bucket: with nothing to move, it is complete */
  private void compare(String peer, Entries local, Entries remote, boolean rebuildPull) {
    AntiEntropyPlan.Moves moves = AntiEntropyPlan.moves(local, remote, !incarnation.isReady());
    for (AntiEntropyPlan.Move move : moves.moves()) {
      move(move.key(), move.pull() ? peer : name, move.pull() ? name : peer, move.known().orElse(null));
    }
    if (rebuildPull && moves.moves().isEmpty() && !moves.incomplete()) {
      incarnation.pulledEverythingFrom(peer);
    }
    antiEntropyRunning = false;
  }

  /** Copies {@code key}'s record from {@code holder} to {@code other}: read it there first unless it is known. */
  private void move(String key, String holder, String other, Record known) {
    long step = world.config().stepTimeout().toMillis();
    long[] task = new long[1];
    Stamp readAt = stamp(); // as AntiEntropySession: the copy carries the stamp from before its record was read
    task[0] = task(reply -> {
      if (reply.round() == 1 && reply.answer() instanceof RecordHeld held && held.record().isPresent()
          && clock.admit(holder, "anti-entropy read", held.stamp().clock(), held.record().get().version().hlc())) {
        send(task[0], other, new Apply(key, held.record().get(), readAt, Cause.ANTI_ENTROPY), 2);
      } else {
        if (reply.round() == 2 && reply.answer() instanceof Applied) {
          world.counted("anti-entropy moves");
        }
        tasks.remove(task[0]);
      }
    }, step, () -> {});
    if (known != null) {
      send(task[0], other, new Apply(key, known, stamp(), Cause.ANTI_ENTROPY), 2);
    } else {
      send(task[0], holder, new Read(key, readAt, Cause.ANTI_ENTROPY), 1);
    }
  }

  /**
   * Asks this replica's store for its bucket hashes (kept up to date with every change) and
   * hands {@code check} them with the hashes computed afresh from its storage: they must agree,
   * or anti-entropy would miss a difference.
   */
  void checkBucketHashes(java.util.function.BiConsumer<long[], long[]> check) {
    long[] task = new long[1];
    task[0] = task(reply -> {
      tasks.remove(task[0]);
      if (reply.answer() instanceof Buckets buckets) {
        Map<String, Version> settled = new HashMap<>();
        disk.allSettled().forEach(tombstone -> settled.put(tombstone.key(), tombstone.version()));
        long[] fresh = BucketHashes.rebuild(disk,
            entry -> !entry.record().version().equals(settled.get(entry.key()))).snapshot();
        check.accept(buckets.hashes(), fresh);
      }
    }, 1_000, () -> {});
    send(task[0], name, new GetBuckets(stamp()), 1);
  }

  /**
   * The value each key holds here (tombstones, expired values and absence alike left out), for
   * the convergence check: expired values settle and are purged at each replica's own pace.
   */
  Map<String, Version> values() {
    Map<String, Version> values = new java.util.TreeMap<>();
    long clockMillis = HybridLogicalClock.millisOf(clock.peek());
    for (io.quorumkv.store.KeyedRecord record : disk.scan("", Integer.MAX_VALUE)) {
      if (!record.record().isAbsentAt(clockMillis)) {
        values.put(record.key(), record.record().version());
      }
    }
    return values;
  }

  /** Paxos states forgotten since this process started. */
  long paxosStatesForgotten() {
    return stats.paxosStatesForgotten();
  }

  /** Tombstones purged since this process started. */
  long tombstonesPurged() {
    return stats.tombstonesPurged();
  }
}
