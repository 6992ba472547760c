package io.quorumkv.cluster;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Three replica JVMs, peer0..peer2, on free loopback ports. Each replica gets the PEER_*
 * entries of the other two; {@code overrides} can point a replica's view of a peer elsewhere
 * (e.g. at a port where nothing listens, to cut that link).
 */
final class LocalCluster implements AutoCloseable {

  static final Duration START_LIMIT = Duration.ofSeconds(60);
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  final List<ReplicaProcess> replicas = new ArrayList<>();
  final int[] ports = new int[3];
  private final Path logDir;
  private final List<String> jvmOptions;
  private final Map<Integer, Map<String, String>> overrides;

  /**
   * @param overrides per replica index, env entries replacing its default PEER_* entries
   */
  LocalCluster(Path logDir, List<String> jvmOptions, Map<Integer, Map<String, String>> overrides)
      throws IOException, InterruptedException {
    this(logDir, jvmOptions, overrides, new int[] {ReplicaProcess.freePort(), ReplicaProcess.freePort(),
        ReplicaProcess.freePort()});
  }

  /** @param ports the three replicas' ports, chosen by the caller (e.g. to put proxies in front) */
  LocalCluster(Path logDir, List<String> jvmOptions, Map<Integer, Map<String, String>> overrides, int[] ports)
      throws IOException, InterruptedException {
    this.logDir = logDir;
    this.jvmOptions = jvmOptions;
    this.overrides = overrides;
    deleteRecursively(logDir); // a test starts from empty data directories
    System.arraycopy(ports, 0, this.ports, 0, 3);
    try {
      for (int i = 0; i < 3; i++) {
        replicas.add(startReplica(i));
      }
      for (ReplicaProcess replica : replicas) {
        replica.awaitHealthy(START_LIMIT);
      }
    } catch (IOException | InterruptedException | RuntimeException | Error e) {
      close();
      throw e;
    }
    System.out.println("cluster up: " + replicas.stream().map(r -> r.name + "@" + r.address() + " pid " + r.pid()).toList()
        + ", logs in " + logDir);
  }

  private ReplicaProcess startReplica(int index) throws IOException {
    Map<String, String> environment = new HashMap<>(peerEnvironment(index));
    environment.putAll(overrides.getOrDefault(index, Map.of()));
    return ReplicaProcess.start("peer" + index, ports[index], environment, jvmOptions, logDir);
  }

  /** Starts replica {@code index} again, on its port and data directory, and waits until it is ready. */
  void restart(int index) throws IOException, InterruptedException {
    restartLive(index);
    replicas.get(index).awaitHealthy(START_LIMIT);
  }

  /** Starts replica {@code index} again and waits until it answers, ready or not. */
  void restartLive(int index) throws IOException, InterruptedException {
    if (replicas.get(index).isAlive()) {
      throw new IllegalStateException("peer" + index + " is still running");
    }
    replicas.set(index, startReplica(index));
    replicas.get(index).awaitLive(START_LIMIT);
  }

  Path dataDirectory(int index) {
    return logDir.resolve("peer" + index + "-data");
  }

  /** PEER_* entries for all three replicas except {@code self} (or all three with -1). */
  Map<String, String> peerEnvironment(int self) {
    Map<String, String> environment = new HashMap<>();
    for (int i = 0; i < 3; i++) {
      if (i != self) {
        environment.put("PEER_PEER" + i + "_HOST", "127.0.0.1");
        environment.put("PEER_PEER" + i + "_PORT", Integer.toString(ports[i]));
      }
    }
    return environment;
  }

  static void deleteRecursively(Path directory) throws IOException {
    if (!java.nio.file.Files.exists(directory)) {
      return;
    }
    try (java.util.stream.Stream<Path> paths = java.nio.file.Files.walk(directory)) {
      for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        java.nio.file.Files.delete(path);
      }
    }
  }

  ReplicaProcess replica(int index) {
    return replicas.get(index);
  }

  static HttpResponse<String> send(String method, String address, String path, String body) throws IOException, InterruptedException {
    HttpRequest.BodyPublisher publisher = body == null
        ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body);
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + address + path))
        .timeout(Duration.ofSeconds(15))
        .method(method, publisher)
        .build();
    return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
  }

  @Override
  public void close() throws InterruptedException {
    for (ReplicaProcess replica : replicas) {
      replica.close();
    }
  }
}
