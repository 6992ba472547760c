package io.quorumkv.store;

import io.quorumkv.config.FsyncMode;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import akka.actor.testkit.typed.javadsl.TestKitJunitResource;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import io.quorumkv.store.ReplicaProtocol.Answer;
import io.quorumkv.store.ReplicaProtocol.Applied;
import io.quorumkv.store.ReplicaProtocol.Apply;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.ReplicaProtocol.Unavailable;
import io.quorumkv.version.HybridLogicalClock;
import io.quorumkv.version.Version;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * Goal: the StoreActor's queue is bounded by count and bytes with an explicit admission (a
 * request beyond the bound is answered unavailable at once, nothing waits without bound), and a
 * group-commit batch is capped. Method: a storage whose first write blocks until released, as a
 * stalled disk would; everything is waited on by latches and answers, never by time.
 */
public class StoreAdmissionTest {

  @ClassRule
  public static final TestKitJunitResource testKit = new TestKitJunitResource();

  private final CountDownLatch writing = new CountDownLatch(1);
  private final CountDownLatch disk = new CountDownLatch(1);
  private final List<Integer> batchSizes = new CopyOnWriteArrayList<>();

  /** A memory storage whose writes wait for {@link #disk}: a stalled disk. */
  private Storage stalledStorage() {
    MemoryStorage memory = new MemoryStorage();
    return (Storage) Proxy.newProxyInstance(Storage.class.getClassLoader(), new Class<?>[] {Storage.class},
        (proxy, method, arguments) -> {
          if (method.getName().equals("applyIfNewer")) {
            batchSizes.add(((List<?>) arguments[0]).size());
            writing.countDown();
            assertTrue(disk.await(60, TimeUnit.SECONDS));
          }
          try {
            return method.invoke(memory, arguments);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }

  private ActorRef<StoreActor.Command> store(Storage storage, StoreAdmission admission) {
    Incarnation ready = new Incarnation(1L, Incarnation.State.READY, List.of(), state -> { });
    return testKit.spawn(StoreActor.create("a", 1L, storage, new HybridLogicalClock(System::currentTimeMillis, 0L),
        new ReplicaStats(), FsyncMode.ALWAYS, Duration.ofMinutes(1), ready,
        new StoreCore.PurgeRule(Duration.ofHours(1), Duration.ofMinutes(1), Duration.ofHours(1), () -> true),
        admission, new StorageAlarm(StorageAlarm.NO_QUOTA), Set.of()));
  }

  private static ReplicaProtocol.Call apply(String key, int valueBytes, ReplyProbe probe) {
    long now = HybridLogicalClock.fromMillis(System.currentTimeMillis());
    return probe.call(new Apply(key, Record.of(new Version(now, 7L), Value.wrap(new byte[valueBytes])),
        new Stamp(7L, now), ReplicaProtocol.Cause.WRITE));
  }

  @Test
  public void beyondTheCountBoundARequestIsRefusedAtOnceAndTheBoundFreesAsTheStoreCatchesUp() throws Exception {
    StoreAdmission admission = new StoreAdmission(2, 1L << 30);
    ActorRef<StoreActor.Command> store = store(stalledStorage(), admission);
    ReplyProbe probe = new ReplyProbe(testKit);
    StoreActor.offer(store, admission, apply("k1", 10, probe), "a");
    assertTrue(writing.await(30, TimeUnit.SECONDS)); // the first write is stuck on the disk
    StoreActor.offer(store, admission, apply("k2", 10, probe), "a");
    StoreActor.offer(store, admission, apply("k3", 10, probe), "a");
    Unavailable refused = probe.expectMessageClass(Unavailable.class);
    assertTrue(refused.reason(), refused.reason().contains("queue is full"));
    assertEquals(1, admission.refusals());
    assertEquals(2, admission.queued());

    disk.countDown();
    probe.expectMessageClass(Applied.class);
    probe.expectMessageClass(Applied.class);
    assertEquals(0, admission.queued());
    assertEquals(0, admission.queuedBytes());
  }

  @Test
  public void theByteBoundRefusesLargeValuesBeforeTheHeapFills() throws Exception {
    StoreAdmission admission = new StoreAdmission(1_000, 3 * 1024 * 1024);
    ActorRef<StoreActor.Command> store = store(stalledStorage(), admission);
    ReplyProbe probe = new ReplyProbe(testKit);
    StoreActor.offer(store, admission, apply("big1", 1024 * 1024, probe), "a");
    assertTrue(writing.await(30, TimeUnit.SECONDS));
    StoreActor.offer(store, admission, apply("big2", 1024 * 1024, probe), "a");
    StoreActor.offer(store, admission, apply("big3", 1024 * 1024, probe), "a");
    probe.expectMessageClass(Unavailable.class);
    assertTrue(admission.queuedBytes() <= admission.bytesMax());
    disk.countDown();
    probe.expectMessageClass(Applied.class);
    probe.expectMessageClass(Applied.class);
    assertEquals(0, admission.queuedBytes());
  }

  @Test
  public void aGroupCommitBatchIsCappedAndTheRestFollows() throws Exception {
    StoreAdmission admission = new StoreAdmission(100_000, 1L << 30);
    ActorRef<StoreActor.Command> store = store(stalledStorage(), admission);
    ReplyProbe probe = new ReplyProbe(testKit);
    StoreActor.offer(store, admission, apply("first", 1, probe), "a");
    assertTrue(writing.await(30, TimeUnit.SECONDS));
    int queued = StoreCore.BATCH_COUNT_MAX + 500;
    for (int i = 0; i < queued; i++) {
      StoreActor.offer(store, admission, apply("key-" + i, 1, probe), "a");
    }
    disk.countDown();
    for (int i = 0; i < queued + 1; i++) {
      probe.expectMessageClass(Applied.class);
    }
    assertEquals(List.of(1, StoreCore.BATCH_COUNT_MAX, 500), batchSizes);
    assertEquals(0, admission.queued());
  }
}
