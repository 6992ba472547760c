package io.quorumkv.cluster;

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
 * One replica JVM started from the built jar, on loopback, configured only through the
 * environment contract (PORT, NODE_ID, PEER_*). Stopped by its PID, never by name.
 */
final class ReplicaProcess implements AutoCloseable {

  static final Path REPLICA_JAR = Path.of(System.getProperty("quorumkv.replicaJar", "target/quorumkv-replica.jar"));
  static final Path CLIENT_JAR = Path.of(System.getProperty("quorumkv.clientJar", "client/target/quorumkv-client.jar"));

  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  final String name;
  final int port;
  final Path log;
  private final Process process;

  private ReplicaProcess(String name, int port, Path log, Process process) {
    this.name = name;
    this.port = port;
    this.log = log;
    this.process = process;
  }

  /**
   * Starts a replica whose data directory is {@code <logDir>/<name>-data}: starting the same
   * name again in the same {@code logDir} restarts it on its old data.
   *
   * @param environment PEER_* entries and any other variable (they override the defaults)
   * @param jvmOptions extra -D settings
   */
  static ReplicaProcess start(String name, int port, Map<String, String> environment, List<String> jvmOptions, Path logDir)
      throws IOException {
    List<String> command = new ArrayList<>(List.of(javaBinary(), "-Xmx256m", "-XX:+UseSerialGC"));
    command.addAll(jvmOptions);
    command.addAll(List.of("-jar", REPLICA_JAR.toString()));
    ProcessBuilder builder = new ProcessBuilder(command);
    Map<String, String> variables = builder.environment();
    variables.keySet().removeIf(key -> key.startsWith("PEER_"));
    variables.put("PORT", Integer.toString(port));
    variables.put("NODE_ID", name);
    variables.put("LISTEN_HOST", "127.0.0.1");
    variables.put("DATA_DIR", logDir.resolve(name + "-data").toString());
    variables.putAll(environment);
    Files.createDirectories(logDir);
    Path log = logDir.resolve(name + ".log");
    builder.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    return new ReplicaProcess(name, port, log, builder.start());
  }

  static String javaBinary() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** A port on loopback that was free a moment ago. */
  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  String address() {
    return "127.0.0.1:" + port;
  }

  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** Waits, bounded, until {@code /health} answers 200 with the replica ready (counting toward quorums). */
  void awaitHealthy(Duration limit) throws InterruptedException {
    awaitHealth(limit, "\"incarnation\":\"ready\"");
  }

  /** Waits, bounded, until {@code /health} answers 200, ready or not. */
  void awaitLive(Duration limit) throws InterruptedException {
    awaitHealth(limit, "\"status\":\"ok\"");
  }

  private void awaitHealth(Duration limit, String expected) throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError(name + " exited with " + process.exitValue() + "; see " + log);
      }
      try {
        HttpResponse<String> response = HTTP.send(
            HttpRequest.newBuilder(URI.create("http://" + address() + "/health")).timeout(Duration.ofSeconds(1)).build(),
            HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 200 && response.body().contains(expected)) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new AssertionError(name + " did not answer /health with " + expected + " within " + limit + "; see " + log);
  }

  /** Waits, bounded, for the process to exit on its own; returns its exit status. */
  int awaitExit(Duration limit) throws InterruptedException {
    if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError(name + " still runs after " + limit);
    }
    return process.exitValue();
  }

  /** {@code kill -9}: no shutdown hook runs. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  /** SIGTERM, then waits (bounded) for the clean stop; returns the exit status. */
  int stop() throws InterruptedException {
    process.destroy();
    return awaitExit(Duration.ofSeconds(20));
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroy(); // SIGTERM: a clean stop
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        kill();
      }
    }
  }
}
