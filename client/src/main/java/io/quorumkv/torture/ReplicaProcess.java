package io.quorumkv.torture;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One replica JVM started from the replica jar, on loopback, configured only through the
 * environment contract (PORT, NODE_ID, PEER_*). Signalled and stopped by its PID, never by name.
 */
public final class ReplicaProcess implements AutoCloseable {

  private static final HttpClient PLAIN = ClusterTls.httpClient(java.util.Optional.empty(), Duration.ofSeconds(2));
  private static final java.util.Random RANDOM = new java.util.Random();

  private final String name;
  private final int port;
  private final Path log;
  private final Process process;
  private final HttpClient http;
  private final String scheme;

  private ReplicaProcess(String name, int port, Path log, Process process, java.util.Optional<ClusterTls> tls) {
    this.name = name;
    this.port = port;
    this.log = log;
    this.process = process;
    this.http = tls.isPresent() ? ClusterTls.httpClient(tls, Duration.ofSeconds(2)) : PLAIN;
    this.scheme = ClusterTls.scheme(tls);
  }

  /** As {@link #start(Path, String, int, Map, List, Path, java.util.Optional)}, over plain HTTP. */
  public static ReplicaProcess start(
      Path replicaJar, String name, int port, Map<String, String> environment, List<String> jvmOptions, Path logDir)
      throws IOException {
    return start(replicaJar, name, port, environment, jvmOptions, logDir, java.util.Optional.empty());
  }

  /**
   * Starts a replica whose data directory is {@code <logDir>/<name>-data}: starting the same
   * name again in the same {@code logDir} restarts it on its old data.
   *
   * @param environment PEER_* entries and any other variable (they override the defaults)
   * @param jvmOptions extra -D settings
   * @param tls present: the replica gets its certificates (TLS_* variables), and health checks use HTTPS
   */
  public static ReplicaProcess start(
      Path replicaJar, String name, int port, Map<String, String> environment, List<String> jvmOptions, Path logDir,
      java.util.Optional<ClusterTls> tls) throws IOException {
    List<String> command = new ArrayList<>(List.of(javaBinary(), "-Xmx256m", "-XX:+UseSerialGC"));
    command.addAll(jvmOptions);
    command.addAll(List.of("-jar", replicaJar.toString()));
    ProcessBuilder builder = new ProcessBuilder(command);
    Map<String, String> variables = builder.environment();
    variables.keySet().removeIf(key -> key.startsWith("PEER_"));
    variables.put("PORT", Integer.toString(port));
    variables.put("NODE_ID", name);
    variables.put("LISTEN_HOST", "127.0.0.1");
    variables.put("DATA_DIR", logDir.resolve(name + "-data").toString());
    tls.ifPresent(files -> variables.putAll(files.replicaEnvironment(name)));
    variables.putAll(environment);
    Files.createDirectories(logDir);
    Path log = logDir.resolve(name + ".log");
    builder.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    return new ReplicaProcess(name, port, log, builder.start(), tls);
  }

  public static String javaBinary() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /**
   * A port on loopback that was free a moment ago, below the kernel's ephemeral range: a
   * replica that is down must not find its port taken when it restarts, and a client that
   * keeps connecting to a port in the ephemeral range while nothing listens there can end up
   * connected to itself, holding that very port.
   */
  public static int freePort() throws IOException {
    int below = ephemeralRangeStart();
    for (int attempt = 0; attempt < 100; attempt++) {
      int port = 10_000 + RANDOM.nextInt(Math.max(1, below - 10_000));
      try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
        return socket.getLocalPort();
      } catch (IOException e) {
        // taken: try another
      }
    }
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort(); // no luck below the range: any free port
    }
  }

  /** The first port of Linux's ephemeral range, or 32768 where it cannot be read. */
  private static int ephemeralRangeStart() {
    try {
      // Read line by line: procfs files claim a size of 0, which Files.readString trusts.
      String range = Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim();
      int start = Integer.parseInt(range.split("\\s+")[0]);
      return start > 11_000 ? start : 32_768;
    } catch (IOException | RuntimeException e) {
      return 32_768;
    }
  }

  public String name() {
    return name;
  }

  public int port() {
    return port;
  }

  public Path log() {
    return log;
  }

  public String address() {
    return "127.0.0.1:" + port;
  }

  /** {@code GET path} on this replica (HTTPS when it runs with TLS), waiting at most a second. */
  public HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create(scheme + "://" + address() + path))
        .timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.ofString());
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /**
   * Waits, bounded, until {@code /health} answers 200 with the replica ready (counting toward
   * quorums) and its clock confirmed by a peer: a replica whose peers are all down never gets
   * there, so start them all before waiting for any.
   */
  public void awaitHealthy(Duration limit) throws InterruptedException {
    // Ready, and its clock confirmed by a peer (it coordinates nothing before).
    awaitHealth(limit, "\"incarnation\":\"ready\",\"clock\":\"ok\"");
  }

  /** Whether {@code /health} answers 200 with the replica ready and its clock confirmed, right now. */
  public boolean isServing() {
    if (!process.isAlive()) {
      return false;
    }
    try {
      HttpResponse<String> response = get("/health");
      return response.statusCode() == 200 && response.body().contains("\"incarnation\":\"ready\",\"clock\":\"ok\"");
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Waits, bounded, until {@code /health} answers 200, ready or not. */
  public void awaitLive(Duration limit) throws InterruptedException {
    awaitHealth(limit, "\"status\":\"ok\"");
  }

  private void awaitHealth(Duration limit, String expected) throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(name + " exited with " + process.exitValue() + "; see " + log);
      }
      try {
        HttpResponse<String> response = get("/health");
        if (response.statusCode() == 200 && response.body().contains(expected)) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException(name + " did not answer /health with " + expected + " within " + limit + "; see "
        + log);
  }

  /** Waits, bounded, for the process to exit on its own; returns its exit status. */
  public int awaitExit(Duration limit) throws InterruptedException {
    if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException(name + " still runs after " + limit);
    }
    return process.exitValue();
  }

  /** {@code kill -9}: no shutdown hook runs. Waits (bounded) until the process is gone. */
  public void kill() throws InterruptedException {
    killNow();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  /** Sends {@code kill -9} and returns at once. */
  public void killNow() {
    process.destroyForcibly();
  }

  /** SIGSTOP: the process freezes, its sockets stay open, nothing answers. */
  public void pause() throws IOException, InterruptedException {
    signal("STOP");
  }

  /** SIGCONT after {@link #pause()}. */
  public void resume() throws IOException, InterruptedException {
    signal("CONT");
  }

  private void signal(String signal) throws IOException, InterruptedException {
    if (!process.isAlive()) {
      return;
    }
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid()))
        .redirectErrorStream(true).start();
    if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      kill.destroyForcibly();
      throw new IOException("kill -" + signal + " " + process.pid() + " failed");
    }
  }

  /** SIGTERM, then waits (bounded) for the clean stop; returns the exit status. */
  public int stop() throws InterruptedException {
    process.destroy();
    return awaitExit(Duration.ofSeconds(20));
  }

  /** Stops the process whatever state it is in (a paused one is resumed first, so SIGTERM can work). */
  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      try {
        resume();
      } catch (IOException e) {
        // it will be killed below if SIGTERM does not work
      }
      process.destroy(); // SIGTERM: a clean stop
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        kill();
      }
    }
  }
}
