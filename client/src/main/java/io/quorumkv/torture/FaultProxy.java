package io.quorumkv.torture;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;

/**
 * A proxy on a loopback port in front of one replica, through which another replica reaches
 * it, for network faults without killing anything:
 * <ul>
 *   <li>{@link #cut()}: every open connection is dropped and new ones are closed at once;
 *   <li>{@link #blackhole()}: connections are accepted but requests vanish (the sender times out);
 *   <li>{@link #delay(long)}: every request, and every answer, waits before it is passed on;
 *   <li>{@link #lose(double)}: each request drops its connection with this probability;
 *   <li>{@link #dropCauses(Set)}: replica-to-replica requests sent for one of these causes (the
 *       {@code cause} query parameter of {@code /internal/v2/call}: hint, repair,
 *       anti-entropy, write) drop their connection, the rest pass.
 * </ul>
 * It understands just enough HTTP/1.1 to see each request's target and length (replicas send
 * strict bodies with Content-Length), and passes a WebSocket upgrade's frames through as they
 * come ({@link #tunnel}); answers are copied back untouched. An <em>opaque</em> proxy (for
 * replicas speaking TLS, whose requests it cannot read) tunnels every connection that way from
 * its first byte, so {@link #dropCauses} has no effect there. Threads are daemons;
 * {@link #close()} stops everything.
 */
public final class FaultProxy implements AutoCloseable {

  private enum Mode { PASS, CUT, BLACKHOLE }

  private static final int HEAD_BYTES_MAX = 64 * 1024;

  private final ServerSocket server;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final Set<Socket> swallowing = ConcurrentHashMap.newKeySet(); // waiting for answers that never come
  private final Set<Socket> stalled = ConcurrentHashMap.newKeySet(); // half-open for good: never forward, never close
  private final Map<String, LongAdder> dropped = new ConcurrentHashMap<>();
  private volatile int targetPort;
  private volatile Mode mode = Mode.PASS;
  private volatile long delayMillis;
  private volatile Set<String> droppedCauses = Set.of();
  private volatile double lossProbability;
  private volatile boolean closed;
  private final boolean opaque;

  /** A proxy that forwards nowhere until {@link #forwardTo}; its own port is taken at once. */
  public FaultProxy() throws IOException {
    this(false);
  }

  /** @param opaque pass bytes without reading requests (TLS): faults apply to each piece read */
  public FaultProxy(boolean opaque) throws IOException {
    this.opaque = opaque;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::acceptLoop, "proxy-" + port());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** Where connections go; set before the replica behind it starts. */
  public void forwardTo(int port) {
    this.targetPort = port;
  }

  public int port() {
    return server.getLocalPort();
  }

  public void cut() {
    mode = Mode.CUT;
    for (Socket socket : open) {
      closeQuietly(socket);
    }
  }

  public void blackhole() {
    mode = Mode.BLACKHOLE;
  }

  /**
   * Every connection open now stops forwarding, both ways, for good, and stays open, also
   * after {@link #heal}: a half-open connection (a dropped conntrack entry, a peer frozen
   * mid-frame) that no reset ever ends. New connections pass as usual.
   */
  public void stall() {
    for (Socket socket : open) {
      stalled.add(socket);
    }
  }

  public void delay(long millis) {
    delayMillis = millis;
  }

  /** Drops the connection of each request with this probability (a lossy network). */
  public void lose(double probability) {
    lossProbability = probability;
  }

  /** Drops the connection of every internal request with one of these causes (labels). */
  public void dropCauses(Set<String> causes) {
    droppedCauses = Set.copyOf(causes);
  }

  /**
   * Back to passing everything at once. Connections that had a request swallowed are closed:
   * their sender would otherwise wait on them for an answer that never comes.
   */
  public void heal() {
    mode = Mode.PASS;
    for (Socket socket : swallowing) {
      closeQuietly(socket);
    }
    swallowing.clear();
    delayMillis = 0;
    droppedCauses = Set.of();
    lossProbability = 0;
  }

  /** Requests dropped by {@link #dropCauses} (by cause) and {@link #lose}, since the start. */
  public Map<String, Long> droppedByCause() {
    Map<String, Long> counts = new TreeMap<>();
    dropped.forEach((cause, count) -> counts.put(cause, count.sum()));
    return counts;
  }

  private void acceptLoop() {
    while (!closed) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        return; // closed
      }
      if (mode == Mode.CUT) {
        closeQuietly(client);
        continue;
      }
      Socket upstream = new Socket();
      try {
        open.add(client);
        open.add(upstream);
        // No Nagle: a request written in pieces must not wait for the peer's delayed ACK.
        client.setTcpNoDelay(true);
        upstream.setTcpNoDelay(true);
        upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 2_000);
        if (mode == Mode.CUT) { // cut while connecting
          closePair(client, upstream);
          continue;
        }
        start("proxy-requests-" + port(), () -> untilClosed(client, upstream, () -> pumpRequests(client, upstream)));
        start("proxy-answers-" + port(), () -> untilClosed(client, upstream, () -> pumpAnswers(upstream, client)));
      } catch (IOException e) {
        closePair(client, upstream); // the replica behind is down: the caller sees a closed connection
      }
    }
  }

  private static void start(String name, Runnable body) {
    Thread thread = new Thread(body, name);
    thread.setDaemon(true);
    thread.start();
  }

  /** One direction of a connection: it copies until either side closes, then closes both. */
  private interface Pump {
    void run() throws IOException, InterruptedException;
  }

  private void untilClosed(Socket client, Socket upstream, Pump pump) {
    try {
      pump.run();
    } catch (IOException e) {
      // one side closed
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      closePair(client, upstream);
    }
  }

  /** Passes requests one by one, applying the current faults to each. */
  private void pumpRequests(Socket from, Socket to) throws IOException, InterruptedException {
    try (InputStream in = new BufferedInputStream(from.getInputStream()); OutputStream out = to.getOutputStream()) {
      if (opaque) {
        tunnel(in, out, from);
        return;
      }
      while (true) {
        byte[] head = readHead(in);
        if (head == null) {
          return;
        }
        String headText = new String(head, StandardCharsets.ISO_8859_1);
        if (isUpgrade(headText)) {
          out.write(head);
          out.flush();
          tunnel(in, out, from);
          return;
        }
        long length = contentLength(headText);
        if (length < 0) {
          // Not a request this proxy understands (e.g. a chunked body): pass the rest untouched.
          out.write(head);
          in.transferTo(out);
          return;
        }
        byte[] body = in.readNBytes((int) length);
        if (body.length < length) {
          return;
        }
        Verdict verdict = faultsFor(from);
        if (verdict == Verdict.DROP_CONNECTION) {
          return;
        }
        if (verdict == Verdict.SWALLOW) {
          continue; // no answer ever comes
        }
        String cause = causeOf(headText);
        if (cause != null && droppedCauses.contains(cause)) {
          dropped.computeIfAbsent(cause, c -> new LongAdder()).increment();
          return; // the sender sees its connection closed without an answer
        }
        byte[] request = new byte[head.length + body.length];
        System.arraycopy(head, 0, request, 0, head.length);
        System.arraycopy(body, 0, request, head.length, body.length);
        out.write(request);
        out.flush();
      }
    }
  }

  /**
   * After a WebSocket upgrade (the replicas' replication stream) the connection carries frames,
   * not requests: they are passed on as they come, with the current faults applied to each
   * piece read: delayed, swallowed (black hole), or, with the loss probability, the whole
   * connection dropped (every call in flight on it fails, as a lossy link breaks connections).
   * Causes are not visible inside the stream; replicas send only foreground requests there (a
   * client's write, read and write-back), never a repair, hint or anti-entropy request.
   */
  private void tunnel(InputStream in, OutputStream out, Socket from) throws IOException, InterruptedException {
    byte[] buffer = new byte[16 * 1024];
    int read;
    while ((read = in.read(buffer)) >= 0) {
      Verdict verdict = faultsFor(from);
      if (verdict == Verdict.DROP_CONNECTION) {
        return;
      }
      if (verdict == Verdict.SWALLOW) {
        continue;
      }
      out.write(buffer, 0, read);
      out.flush();
    }
  }

  private enum Verdict { PASS, SWALLOW, DROP_CONNECTION }

  /**
   * The faults every request, and every piece of an upgraded connection, goes through: the
   * delay, then a cut, a black hole (the sender is remembered, so healing closes its
   * connection), or a random loss.
   */
  private Verdict faultsFor(Socket from) throws InterruptedException {
    if (stalled.contains(from)) {
      return Verdict.SWALLOW;
    }
    long delay = delayMillis;
    if (delay > 0) {
      Thread.sleep(delay);
    }
    if (mode == Mode.CUT) {
      return Verdict.DROP_CONNECTION;
    }
    if (mode == Mode.BLACKHOLE) {
      swallowing.add(from);
      return Verdict.SWALLOW;
    }
    if (lossProbability > 0 && ThreadLocalRandom.current().nextDouble() < lossProbability) {
      dropped.computeIfAbsent("lost at random", c -> new LongAdder()).increment();
      return Verdict.DROP_CONNECTION;
    }
    return Verdict.PASS;
  }

  private static boolean isUpgrade(String head) {
    for (String line : head.split("\r\n")) {
      String lower = line.toLowerCase(Locale.ROOT);
      if (lower.startsWith("upgrade:") && lower.contains("websocket")) {
        return true;
      }
    }
    return false;
  }

  private void pumpAnswers(Socket from, Socket to) throws IOException, InterruptedException {
    byte[] buffer = new byte[16 * 1024];
    try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
      int read;
      while ((read = in.read(buffer)) >= 0 && mode != Mode.CUT) {
        long delay = delayMillis;
        if (delay > 0) {
          Thread.sleep(delay);
        }
        if (stalled.contains(to)) {
          continue; // the answer is lost on a stalled connection
        }
        out.write(buffer, 0, read);
        out.flush();
      }
    }
  }

  /** The request head up to and including the blank line; null at end of stream. */
  private static byte[] readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream(512);
    int matched = 0; // of "\r\n\r\n"
    while (matched < 4) {
      int b = in.read();
      if (b < 0) {
        return null;
      }
      head.write(b);
      if (head.size() > HEAD_BYTES_MAX) {
        throw new IOException("request head too long");
      }
      matched = b == (matched % 2 == 0 ? '\r' : '\n') ? matched + 1 : b == '\r' ? 1 : 0;
    }
    return head.toByteArray();
  }

  /** The Content-Length (0 when absent), or -1 for a chunked body. */
  private static long contentLength(String head) {
    long length = 0;
    for (String line : head.split("\r\n")) {
      String lower = line.toLowerCase(Locale.ROOT);
      if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
        return -1;
      }
      if (lower.startsWith("content-length:")) {
        length = Long.parseLong(line.substring("content-length:".length()).trim());
      }
    }
    return length;
  }

  /** The {@code cause} query parameter of the request target, if any. */
  private static String causeOf(String head) {
    String requestLine = head.substring(0, Math.max(0, head.indexOf("\r\n")));
    int at = requestLine.indexOf("cause=");
    if (at < 0) {
      return null;
    }
    int end = at + "cause=".length();
    while (end < requestLine.length() && " &".indexOf(requestLine.charAt(end)) < 0) {
      end++;
    }
    return requestLine.substring(at + "cause=".length(), end);
  }

  private void closePair(Socket a, Socket b) {
    closeQuietly(a);
    closeQuietly(b);
    open.remove(a);
    open.remove(b);
    swallowing.remove(a);
    stalled.remove(a);
    stalled.remove(b);
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // already closed
    }
  }

  @Override
  public void close() {
    closed = true;
    cut();
    try {
      server.close();
    } catch (IOException e) {
      // already closed
    }
  }
}
