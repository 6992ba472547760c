package io.quorumkv.http;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import akka.actor.typed.javadsl.Adapter;
import akka.http.javadsl.testkit.JUnitRouteTest;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Goal: more slow or half-sent connections than the limits, from one address, cannot stop a
 * replica from serving other clients and its peers (finding: 1,100 connections that each sent
 * half a request head made a replica stop answering everyone). Method: a replica's real routes
 * behind the {@link GuardedServer} with the default limits but a short head deadline; the
 * attacker connects from 127.0.0.2, a peer from 127.0.0.1 and another client from 127.0.0.3 (all
 * loopback); everything waits on what the sockets show, under generous caps.
 */
public class GuardedServerTest extends JUnitRouteTest {

  private static final Duration HEAD_TIMEOUT = Duration.ofSeconds(5);
  private static final InetAddress ATTACKER = address(127, 0, 0, 2);
  private static final InetAddress PEER = address(127, 0, 0, 1);
  private static final InetAddress CLIENT = address(127, 0, 0, 3);

  private GuardedServer server;
  private final List<Socket> attackers = new ArrayList<>();

  private static InetAddress address(int a, int b, int c, int d) {
    try {
      return InetAddress.getByAddress(new byte[] {(byte) a, (byte) b, (byte) c, (byte) d});
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Before
  public void bind() throws Exception {
    RouteFixture fixture = new RouteFixture(system(), "", 0);
    GuardedServer.Limits limits = new GuardedServer.Limits(fixture.settings.connections().max(),
        fixture.settings.connections().perAddressMax(), fixture.settings.connections().reservedForPeers(),
        HEAD_TIMEOUT, Duration.ofSeconds(60), Set.of(PEER)::contains);
    server = GuardedServer.bind(Adapter.toTyped(system()), "127.0.0.1", 0, fixture.route, limits)
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @After
  public void close() throws Exception {
    for (Socket socket : attackers) {
      socket.close();
    }
    server.terminate(Duration.ofSeconds(2)).toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private Socket connect(InetAddress from) throws IOException {
    Socket socket = new Socket();
    socket.bind(new InetSocketAddress(from, 0));
    socket.connect(server.localAddress(), 5_000);
    socket.setSoTimeout(30_000);
    return socket;
  }

  /** A whole GET of {@code /health} from {@code from}: the status it got. */
  private int health(InetAddress from) throws IOException {
    try (Socket socket = connect(from)) {
      socket.getOutputStream().write("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII));
      byte[] answer = socket.getInputStream().readAllBytes();
      String text = new String(answer, StandardCharsets.US_ASCII);
      return text.startsWith("HTTP/1.1 ") ? Integer.parseInt(text.substring(9, 12)) : 0;
    }
  }

  /** Whether the server closed {@code socket} (end of stream or reset) within the socket's timeout. */
  private static boolean closedByServer(Socket socket) throws IOException {
    InputStream in = socket.getInputStream();
    try {
      while (true) {
        int read = in.read();
        if (read < 0) {
          return true;
        }
      }
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // reset
    }
  }

  @Test
  public void halfSentHeadsFromOneAddressNeitherStopOtherClientsNorPeers() throws Exception {
    for (int i = 0; i < 1_100; i++) {
      Socket socket = connect(ATTACKER);
      socket.getOutputStream().write("GET /kv/k1 HTTP/1.1\r\nHost: x\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
      attackers.add(socket);
    }
    assertEquals("a peer is served", 200, health(PEER));
    assertEquals("another client is served", 200, health(CLIENT));
    // Every attacking connection ends: refused at once beyond the per-address cap, or closed at
    // the head deadline.
    for (Socket socket : attackers) {
      assertTrue("an attacking connection is still open", closedByServer(socket));
    }
    assertEquals("the attacker can connect again once it behaves", 200, health(ATTACKER));
  }

  @Test
  public void aHeadThatArrivesInTimeIsServedAndAnIdleKeepAliveConnectionIsNotCut() throws Exception {
    try (Socket socket = connect(CLIENT)) {
      socket.getOutputStream().write("GET /health HTTP/1.1\r\nHo".getBytes(StandardCharsets.US_ASCII));
      Thread.sleep(200); // slow, but well within the deadline
      socket.getOutputStream().write("st: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      InputStream in = socket.getInputStream();
      byte[] start = in.readNBytes(12);
      assertEquals("HTTP/1.1 200", new String(start, StandardCharsets.US_ASCII));
      // Idle between requests for longer than the head deadline: still open (the idle timeout's).
      socket.setSoTimeout((int) HEAD_TIMEOUT.multipliedBy(2).toMillis());
      in.readNBytes(in.available());
      Thread.sleep(HEAD_TIMEOUT.multipliedBy(2).toMillis());
      socket.getOutputStream().write("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII));
      String rest = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
      assertTrue(rest, rest.contains("HTTP/1.1 200"));
    }
  }
}
