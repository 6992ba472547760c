package io.quorumkv.http;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.testkit.JUnitRouteTest;
import io.quorumkv.config.PeerAddress;
import io.quorumkv.replication.InternalWire;
import io.quorumkv.replication.InternalWire.ApplyCall;
import io.quorumkv.replication.InternalWire.KeyCall;
import io.quorumkv.replication.InternalWire.RecordReply;
import io.quorumkv.replication.InternalWire.VersionReply;
import io.quorumkv.replication.PeerClient;
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

  @Before
  public void bindAReplica() throws Exception {
    peerSystem = akka.actor.ActorSystem.create("peer");
    RouteFixture fixture = new RouteFixture(peerSystem, "", 0);
    ServerBinding binding = Http.get(peerSystem).newServerAt("127.0.0.1", 0).bind(fixture.route)
        .toCompletableFuture().get(5, TimeUnit.SECONDS);
    ActorSystem<Void> system = Adapter.toTyped(system());
    PeerAddress peer = new PeerAddress("peer", "127.0.0.1", binding.localAddress().getPort());
    client = new PeerClient(system, peer, Duration.ofSeconds(2), "", 64, true, 1 << 20,
        (name, endpoint, succeeded, sent, received) -> { });
  }

  @After
  public void stopThePeer() throws Exception {
    peerSystem.terminate();
    peerSystem.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private byte[] call(String endpoint, String cause, Object body) throws Exception {
    return client.keyCall(endpoint, cause, InternalWire.encode(body)).toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  @Test
  public void callsTravelOverTheStreamOnceItIsOpen() throws Exception {
    assertFalse(client.streamOpen());
    VersionReply first = InternalWire.decode(
        call(InternalWire.READ_VERSION_PATH, "", new KeyCall("k", 9L, 0L)), VersionReply.class); // over HTTP
    assertEquals(0L, first.hlc());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!client.streamOpen() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertTrue("the stream opened within 5 s", client.streamOpen());

    VersionReply applied = InternalWire.decode(call(InternalWire.APPLY_PATH, "write",
        new ApplyCall("k", HLC, 5L, false, "v".getBytes(), 9L, HLC)), VersionReply.class);
    assertEquals(HLC, applied.hlc());
    RecordReply read = InternalWire.decode(call(InternalWire.READ_PATH, "", new KeyCall("k", 9L, 0L)), RecordReply.class);
    assertEquals("v", new String(read.value()));

    // A refusal comes back as a failed call, as over HTTP.
    ExecutionException refused = assertThrows(ExecutionException.class,
        () -> call(InternalWire.READ_PATH, "", new KeyCall("", 9L, 0L)));
    assertTrue(refused.getCause().getMessage(), refused.getCause().getMessage().contains("400"));

    // The peer goes away: the stream closes and calls fail rather than wait forever.
    peerSystem.terminate();
    peerSystem.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (client.streamOpen() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertFalse("the stream closed within 5 s of the peer going away", client.streamOpen());
    assertThrows(ExecutionException.class, () -> call(InternalWire.READ_PATH, "", new KeyCall("k", 9L, 0L)));
  }
}
