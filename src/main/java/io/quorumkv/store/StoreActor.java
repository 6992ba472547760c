package io.quorumkv.store;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import io.quorumkv.config.FsyncMode;
import io.quorumkv.faults.DeliberateBug;
import io.quorumkv.store.ReplicaProtocol.Answer;
import io.quorumkv.store.ReplicaProtocol.Call;
import io.quorumkv.store.ReplicaProtocol.Entry;
import io.quorumkv.store.ReplicaProtocol.Reply;
import io.quorumkv.store.ReplicaProtocol.StoreRequest;
import io.quorumkv.version.HybridLogicalClock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;

/**
 * The replica's data: the only actor that touches its {@link Storage}. It answers every
 * {@link StoreRequest} of the {@link ReplicaProtocol}, each in a {@link Call}, for this replica's
 * coordinators and background tasks and, through the internal endpoint, for the peers'.
 *
 * <p>The handling itself is {@link StoreCore}, pure code; this actor drives it as the
 * coordinators drive their rounds: it delivers calls, keeps the timers (periodic sync, the
 * purge and disk checks), runs group commit's flush behind everything already in its mailbox,
 * and runs listing scans off its own thread (docs/design.md, "Request flow").
 *
 * <p>It runs on the dedicated {@code quorumkv.storage-dispatcher} because storage calls block.
 */
public final class StoreActor extends AbstractBehavior<StoreActor.Command> {

  /** The replica protocol's calls, the tombstone sweeper's local listing, and the actor's own timers. */
  public sealed interface Command
      permits Call, AdmittedCall, ListUnsettledTombstones, ListKeysToSettle, ListKeysToForget, Flush, SyncTick, PurgeTick, LateFlushTick,
      DiskTick {}

  /**
   * A call that passed the {@link StoreAdmission} bound; its {@code weight} is released once it
   * is served (an apply: once its batch is written and answered).
   */
  public record AdmittedCall(Call call, long weight) implements Command {}

  /** Sends {@code call} to {@code store} if its queue admits it; else answers it unavailable. */
  public static void offer(ActorRef<Command> store, StoreAdmission admission, Call call, String name) {
    long weight = StoreAdmission.weightOf(call.request());
    if (admission.tryAdmit(weight)) {
      store.tell(new AdmittedCall(call, weight));
    } else {
      call.replyTo().tell(new Reply(name, call.round(), admission.refusal()));
    }
  }

  /** Asks for up to {@code limit} tombstones not settled yet, older than {@code olderThanHlc}. */
  public record ListUnsettledTombstones(int limit, long olderThanHlc, ActorRef<UnsettledTombstones> replyTo)
      implements Command {}

  public record UnsettledTombstones(List<Entry> tombstones) {}

  /** Asks for up to {@code limit} keys to settle (see {@link StoreCore#keysToSettle}). */
  public record ListKeysToSettle(int limit, long olderThanHlc, ActorRef<KeysToSettle> replyTo) implements Command {}

  public record KeysToSettle(List<String> keys) {}

  /** Asks for up to {@code limit} keys whose Paxos state may be forgotten (see {@link StoreCore#keysToForget}). */
  public record ListKeysToForget(int limit, ActorRef<KeysToForget> replyTo) implements Command {}

  public record KeysToForget(List<String> keys) {}

  /** Purge the settled tombstones that are old enough. */
  enum PurgeTick implements Command { INSTANCE }

  /** Write the queued Applies as one batch (see {@link StoreCore#flush()}). */
  enum Flush implements Command { INSTANCE }

  /** {@link DeliberateBug#UNSYNCED_READS}: the only time queued Applies are written. */
  enum LateFlushTick implements Command { INSTANCE }

  /** {@code fsync = periodic}: make everything written so far durable. */
  enum SyncTick implements Command { INSTANCE }

  /** Measure the data directory against the quota; after a full disk, probe whether writes work again. */
  enum DiskTick implements Command { INSTANCE }

  static final Duration DISK_CHECK_INTERVAL = Duration.ofSeconds(1);
  static final Duration PERIODIC_SYNC_INTERVAL = Duration.ofMillis(100);
  static final Duration LATE_FLUSH_INTERVAL = Duration.ofSeconds(1);
  /** Listings scanned at once; more are answered truncated. */
  static final int SCANS_MAX = 2;

  private final StoreCore<Call> core;
  private final Semaphore scans = new Semaphore(SCANS_MAX);
  /** Pages of client listings built at once; more are answered unavailable (the listing asks another replica). */
  static final int LIST_PAGES_MAX = 4;
  private final Semaphore listPages = new Semaphore(LIST_PAGES_MAX);
  /** Where listings scan: Akka's dispatcher for blocking work, never this actor's thread. */
  private final Executor scanExecutor;

  /**
   * @param name the name local coordinators know this replica by (the node id)
   * @param replicaId this replica's random 64-bit id
   */
  public static Behavior<Command> create(
      String name, long replicaId, Storage storage, HybridLogicalClock clock, ReplicaStats stats, FsyncMode fsync,
      Duration maxMessageAge, Incarnation incarnation, StoreCore.PurgeRule purgeRule, StoreAdmission admission,
      StorageAlarm alarm, Set<DeliberateBug> bugs) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new StoreActor(ctx, timers, name, replicaId, storage, clock, stats, fsync, maxMessageAge, incarnation, purgeRule,
            admission, alarm, bugs)));
  }

  private StoreActor(
      ActorContext<Command> ctx, TimerScheduler<Command> timers, String name, long replicaId, Storage storage,
      HybridLogicalClock clock, ReplicaStats stats, FsyncMode fsync, Duration maxMessageAge, Incarnation incarnation,
      StoreCore.PurgeRule purgeRule, StoreAdmission admission, StorageAlarm alarm, Set<DeliberateBug> bugs) {
    super(ctx);
    this.scanExecutor = ctx.getSystem().dispatchers().lookup(akka.actor.typed.DispatcherSelector.blocking());
    this.core = new StoreCore<>(name, replicaId, storage, clock, stats, maxMessageAge, incarnation, purgeRule,
        admission, alarm, bugs, System::currentTimeMillis, new StoreCore.Outbox<>() {
          @Override
          public void answer(Call call, Answer answer) {
            call.replyTo().tell(new Reply(name, call.round(), answer));
          }

          @Override
          public void flushSoon() {
            ctx.getSelf().tell(Flush.INSTANCE);
          }

          @Override
          public boolean startScan(java.util.function.Supplier<Runnable> prepare) {
            return startScanOffThread(scans, prepare);
          }

          @Override
          public boolean startListPage(java.util.function.Supplier<Runnable> prepare) {
            return startScanOffThread(listPages, prepare);
          }
        });
    timers.startTimerWithFixedDelay(PurgeTick.INSTANCE, purgeRule.checkInterval());
    timers.startTimerWithFixedDelay(DiskTick.INSTANCE, DISK_CHECK_INTERVAL);
    if (fsync == FsyncMode.PERIODIC) {
      timers.startTimerWithFixedDelay(SyncTick.INSTANCE, PERIODIC_SYNC_INTERVAL);
    }
    if (core.flushesLate()) {
      timers.startTimerWithFixedDelay(LateFlushTick.INSTANCE, LATE_FLUSH_INTERVAL);
    }
  }

  private boolean startScanOffThread(Semaphore slots, java.util.function.Supplier<Runnable> prepare) {
    if (!slots.tryAcquire()) {
      return false;
    }
    Runnable scan;
    try {
      scan = prepare.get();
    } catch (RuntimeException e) {
      slots.release();
      throw e;
    }
    CompletableFuture.runAsync(() -> {
      try {
        scan.run();
      } finally {
        slots.release();
      }
    }, scanExecutor);
    return true;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(AdmittedCall.class, admitted ->
            after(() -> core.handle(admitted.call(), admitted.call().request(), admitted.weight())))
        .onMessage(Call.class, call -> after(() -> core.handle(call, call.request())))
        .onMessage(ListUnsettledTombstones.class, request -> after(() -> request.replyTo().tell(
            new UnsettledTombstones(core.unsettledTombstones(request.limit(), request.olderThanHlc())))))
        .onMessage(ListKeysToSettle.class, request -> after(() -> request.replyTo().tell(
            new KeysToSettle(core.keysToSettle(request.limit(), request.olderThanHlc())))))
        .onMessage(ListKeysToForget.class, request -> after(() -> request.replyTo().tell(
            new KeysToForget(core.keysToForget(request.limit())))))
        .onMessageEquals(PurgeTick.INSTANCE, () -> after(core::purge))
        .onMessageEquals(Flush.INSTANCE, () -> after(core::flush))
        .onMessageEquals(LateFlushTick.INSTANCE, () -> after(core::lateFlush))
        .onMessageEquals(SyncTick.INSTANCE, () -> after(core::sync))
        .onMessageEquals(DiskTick.INSTANCE, () -> after(core::checkDisk))
        .onSignal(PostStop.class, signal -> after(core::close))
        .build();
  }

  /** Every message is handed to the core; the actor stays as it is. */
  private Behavior<Command> after(Runnable handled) {
    handled.run();
    return this;
  }
}
