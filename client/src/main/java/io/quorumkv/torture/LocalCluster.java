package io.quorumkv.torture;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Three replica JVMs, peer0..peer2, on loopback. Each replica gets the PEER_* entries of the
 * other two; {@code overrides} can point a replica's view of a peer elsewhere (a proxy, or a
 * port where nothing listens). Used by the torture run and by the cluster tests.
 */
public final class LocalCluster implements AutoCloseable {

  public static final Duration START_LIMIT = Duration.ofSeconds(60);

  private final List<ReplicaProcess> replicas = new ArrayList<>(); // guarded by itself
  private boolean closed; // guarded by replicas
  private final int[] ports = new int[3];
  private final Path replicaJar;
  private final Path logDir;
  private final List<String> jvmOptions;
  private final Map<Integer, Map<String, String>> overrides;
  private final Optional<ClusterTls> tls;

  /** A cluster on three free ports. */
  public LocalCluster(Path replicaJar, Path logDir, List<String> jvmOptions, Map<Integer, Map<String, String>> overrides)
      throws IOException, InterruptedException {
    this(replicaJar, logDir, jvmOptions, overrides,
        new int[] {ReplicaProcess.freePort(), ReplicaProcess.freePort(), ReplicaProcess.freePort()});
  }

  /**
   * Starts the three replicas from empty data directories and waits until all are ready.
   *
   * @param overrides per replica index, environment entries replacing its defaults (PEER_* or any other)
   * @param ports the three replicas' ports, chosen by the caller (e.g. to put proxies in front)
   */
  public LocalCluster(
      Path replicaJar, Path logDir, List<String> jvmOptions, Map<Integer, Map<String, String>> overrides, int[] ports)
      throws IOException, InterruptedException {
    this(replicaJar, logDir, jvmOptions, overrides, ports, Optional.empty());
  }

  /** As above; with {@code tls}, every replica runs with its certificates from there, and is checked over HTTPS. */
  public LocalCluster(
      Path replicaJar, Path logDir, List<String> jvmOptions, Map<Integer, Map<String, String>> overrides, int[] ports,
      Optional<ClusterTls> tls) throws IOException, InterruptedException {
    this.tls = tls;
    this.replicaJar = replicaJar;
    this.logDir = logDir;
    this.jvmOptions = jvmOptions;
    this.overrides = overrides;
    deleteRecursively(logDir); // a cluster starts from empty data directories
    System.arraycopy(ports, 0, this.ports, 0, 3);
    try {
      for (int i = 0; i < 3; i++) {
        replicas.add(null);
        place(i, startReplica(i, Map.of()));
      }
      for (ReplicaProcess replica : replicas()) {
        replica.awaitHealthy(START_LIMIT);
      }
    } catch (IOException | InterruptedException | RuntimeException | Error e) {
      close();
      throw e;
    }
  }

  /** One line naming each replica, its address and PID. */
  public String describe() {
    return replicas().stream().map(r -> r.name() + "@" + r.address() + " pid " + r.pid()).toList()
        + ", logs in " + logDir;
  }

  /**
   * Puts a started replica in its place, unless the cluster was closed meanwhile (e.g. by an
   * exit hook while a fault injector restarts a replica): then it is stopped at once.
   */
  private void place(int index, ReplicaProcess replica) throws InterruptedException {
    synchronized (replicas) {
      if (!closed) {
        replicas.set(index, replica);
        return;
      }
    }
    replica.close();
    throw new IllegalStateException("the cluster was closed while peer" + index + " was starting");
  }

  private ReplicaProcess startReplica(int index, Map<String, String> extra) throws IOException {
    Map<String, String> environment = new HashMap<>(peerEnvironment(index));
    environment.putAll(overrides.getOrDefault(index, Map.of()));
    environment.putAll(extra);
    return ReplicaProcess.start(replicaJar, "peer" + index, ports[index], environment, jvmOptions, logDir, tls);
  }

  /** Starts replica {@code index} again, on its port and data directory, and waits until it is ready. */
  public void restart(int index) throws IOException, InterruptedException {
    restartLive(index);
    replica(index).awaitHealthy(START_LIMIT);
  }

  /** Starts replica {@code index} again and waits until it answers, ready or not. */
  public void restartLive(int index) throws IOException, InterruptedException {
    restartLive(index, Map.of());
  }

  /** As {@link #restartLive(int)}, with {@code extra} environment entries for this start only. */
  public void restartLive(int index, Map<String, String> extra) throws IOException, InterruptedException {
    startAgain(index, extra);
    replica(index).awaitLive(START_LIMIT);
  }

  /**
   * Starts stopped replica {@code index} again, on its port and data directory, with
   * {@code extra} environment entries for this start only, and returns at once.
   */
  public void startAgain(int index, Map<String, String> extra) throws IOException, InterruptedException {
    if (replica(index).isAlive()) {
      throw new IllegalStateException("peer" + index + " is still running");
    }
    place(index, startReplica(index, extra));
  }

  public Path dataDirectory(int index) {
    return logDir.resolve("peer" + index + "-data");
  }

  /** PEER_* entries for all three replicas except {@code self} (or all three with -1). */
  public Map<String, String> peerEnvironment(int self) {
    Map<String, String> environment = new HashMap<>();
    for (int i = 0; i < 3; i++) {
      if (i != self) {
        environment.put("PEER_PEER" + i + "_HOST", "127.0.0.1");
        environment.put("PEER_PEER" + i + "_PORT", Integer.toString(ports[i]));
      }
    }
    return environment;
  }

  public ReplicaProcess replica(int index) {
    synchronized (replicas) {
      return replicas.get(index);
    }
  }

  public List<ReplicaProcess> replicas() {
    synchronized (replicas) {
      return List.copyOf(replicas);
    }
  }

  public static void deleteRecursively(Path directory) throws IOException {
    if (!Files.exists(directory)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(directory)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }

  /** Stops every replica, each even if stopping another failed. */
  @Override
  public void close() throws InterruptedException {
    List<ReplicaProcess> started;
    synchronized (replicas) {
      closed = true;
      started = replicas.stream().filter(java.util.Objects::nonNull).toList();
    }
    RuntimeException failure = null;
    for (ReplicaProcess replica : started) {
      try {
        replica.close();
      } catch (RuntimeException e) {
        failure = e;
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
