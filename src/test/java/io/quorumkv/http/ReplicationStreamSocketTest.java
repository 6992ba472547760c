package io.quorumkv.http;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import akka.http.javadsl.testkit.JUnitRouteTest;
import io.quorumkv.config.PeerAddress;
import io.quorumkv.store.Record;
import io.quorumkv.store.ReplicaProtocol.Answer;
import io.quorumkv.store.ReplicaProtocol.Applied;
import io.quorumkv.store.ReplicaProtocol.Apply;
import io.quorumkv.store.ReplicaProtocol.Cause;
import io.quorumkv.store.ReplicaProtocol.Read;
import io.quorumkv.store.ReplicaProtocol.ReadVersion;
import io.quorumkv.store.ReplicaProtocol.RecordHeld;
import io.quorumkv.store.ReplicaProtocol.Request;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.ReplicaProtocol.VersionHeld;
import io.quorumkv.store.Value;
import io.quorumkv.transport.PeerClient;
import io.quorumkv.version.Version;
import io.quorumkv.torture.FaultProxy;
import io.quorumkv.version.HybridLogicalClock;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Goal: a PeerClient with the replication stream on reaches a real replica's routes over a
 * loopback socket: the first call goes over HTTP while the stream opens, later calls over the
 * stream with the same answers; when the peer goes away, calls fail instead of hanging.
 */
public class ReplicationStreamSocketTest extends JUnitRouteTest {

  private static final long HLC = HybridLogicalClock.fromMillis(System.currentTimeMillis());

  /** The peer lives in an actor system of its own, so stopping it closes its connections. */
  private akka.actor.ActorSystem peerSystem;
  private PeerClient client;
  private int peerPort;

  @Before
  public void bindAReplica() throws Exception {
    peerSystem = akka.actor.ActorSystem.create("peer");
    RouteFixture fixture = new RouteFixture(peerSystem, "", 0);
    // The replica's own listener, so the stream's WebSocket upgrade is tested through it.
    GuardedServer binding = GuardedServer.bind(Adapter.toTyped(peerSystem), "127.0.0.1", 0, fixture.route,
            new GuardedServer.Limits(100, 100, 10, Duration.ofSeconds(10), Duration.ofSeconds(60), address -> false))
        .toCompletableFuture().get(5, TimeUnit.SECONDS);
    ActorSystem<Void> system = Adapter.toTyped(system());
    peerPort = binding.localAddress().getPort();
    PeerAddress peer = new PeerAddress("peer", "127.0.0.1", peerPort);
    client = new PeerClient(system, peer, Duration.ofSeconds(2), "", 64, true, 1 << 20,
        (name, endpoint, succeeded, sent, received) -> { }, java.util.Optional.empty());
  }

  @After
  public void stopThePeer() throws Exception {
    peerSystem.terminate();
    peerSystem.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static final Stamp SENDER = new Stamp(9L, 0L);

  private Answer call(Request request) throws Exception {
    return client.call(request).toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  @Test
  public void aStreamThatStallsWithoutClosingIsAbandonedAndCallsGoOverHttpAgain() throws Exception {
    // Finding: a half-open stream (no reset) was never detected; keep-alive pings hid it.
    Duration timeout = Duration.ofMillis(500);
    try (FaultProxy proxy = new FaultProxy()) {
      proxy.forwardTo(peerPort);
      PeerClient viaProxy = new PeerClient(Adapter.toTyped(system()), new PeerAddress("peer", "127.0.0.1", proxy.port()),
          timeout, "", 8, true, 1 << 20, (name, endpoint, succeeded, sent, received) -> { }, java.util.Optional.empty());
      ReadVersion query = new ReadVersion("k", SENDER);
      viaProxy.call(query).toCompletableFuture().get(5, TimeUnit.SECONDS);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!viaProxy.streamOpen() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertTrue("the stream opened", viaProxy.streamOpen());

      proxy.stall(); // the stream's connection (and the pooled one) stop forwarding, and stay open
      java.util.concurrent.CompletableFuture<Answer> stuck =
          viaProxy.call(query).toCompletableFuture();
      ExecutionException failed = assertThrows(ExecutionException.class, () -> stuck.get(30, TimeUnit.SECONDS));
      deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (viaProxy.streamOpen() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertFalse("the stalled stream was abandoned (" + failed.getCause() + ")", viaProxy.streamOpen());

      // New connections pass: the peer is answered again (a stalled pooled connection may
      // swallow a call first).
      Answer answer = null;
      for (int attempt = 0; attempt < 10 && answer == null; attempt++) {
        try {
          answer = viaProxy.call(query).toCompletableFuture()
              .get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          // timed out on a stalled connection: the next call takes another
        }
      }
      assertTrue("answered again", answer != null);
      assertEquals(Version.ZERO, ((VersionHeld) answer).version());
    }
  }

  @Test
  public void callsThatTimeOutFreeTheirSlotsAtOnce() throws Exception {
    // Finding: a call that timed out stayed counted against peer-requests-in-flight-max until
    // its connection gave up, so after that many every call to the peer failed at once.
    int inFlightMax = 4;
    try (FaultProxy proxy = new FaultProxy()) {
      proxy.forwardTo(peerPort);
      proxy.blackhole();
      PeerClient viaProxy = new PeerClient(Adapter.toTyped(system()), new PeerAddress("peer", "127.0.0.1", proxy.port()),
          Duration.ofMillis(200), "", inFlightMax, false, 1 << 20, (name, endpoint, succeeded, sent, received) -> { }, java.util.Optional.empty());
      ReadVersion query = new ReadVersion("k", SENDER);
      for (int i = 0; i < 3 * inFlightMax; i++) {
        ExecutionException failed = assertThrows(ExecutionException.class,
            () -> viaProxy.call(query).toCompletableFuture()
                .get(30, TimeUnit.SECONDS));
        assertTrue("call " + i + ": " + failed.getCause(), failed.getCause() instanceof java.util.concurrent.TimeoutException);
      }
    }
  }

  @Test
  public void callsTravelOverTheStreamOnceItIsOpen() throws Exception {
    assertFalse(client.streamOpen());
    VersionHeld first = (VersionHeld) call(new ReadVersion("k", SENDER)); // over HTTP
    assertEquals(Version.ZERO, first.version());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!client.streamOpen() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertTrue("the stream opened within 5 s", client.streamOpen());

    Applied applied = (Applied) call(new Apply("k", Record.of(new Version(HLC, 5L), Value.ofUtf8("v")),
        new Stamp(9L, HLC), Cause.WRITE));
    assertEquals(HLC, applied.version().hlc());
    RecordHeld read = (RecordHeld) call(new Read("k", SENDER, Cause.READ));
    assertEquals(Value.ofUtf8("v"), read.record().orElseThrow().value());

    // A refusal comes back as a failed call, as over HTTP.
    ExecutionException refused = assertThrows(ExecutionException.class,
        () -> call(new Read("", SENDER, Cause.READ)));
    assertTrue(refused.getCause().getMessage(), refused.getCause().getMessage().contains("400"));

    // The peer goes away: the stream closes and calls fail rather than wait forever.
    peerSystem.terminate();
    peerSystem.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (client.streamOpen() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertFalse("the stream closed within 5 s of the peer going away", client.streamOpen());
    assertThrows(ExecutionException.class, () -> call(new Read("k", SENDER, Cause.READ)));
  }
}
