package io.quorumkv.torture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * A {@link LocalCluster} whose replicas reach each other only through {@link FaultProxy}s, one
 * per direction of each pair ({@code proxy[from][to]}), so the network between any two can be
 * cut, black-holed, delayed or filtered while clients still reach every replica directly.
 */
public final class TortureCluster implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final FaultProxy[][] proxies = new FaultProxy[3][3];
  private final LocalCluster cluster;
  private final Set<Integer> paused = new HashSet<>();
  private final Set<Integer> skewed = new HashSet<>();
  /** The last counters seen per replica process (by PID), so restarts do not lose them. */
  private final Map<Long, Map<String, Long>> countersByProcess = new HashMap<>();

  /** Starts the proxies, then the replicas behind them, and waits until all three are ready. */
  public TortureCluster(
      Path replicaJar, Path workDir, Map<String, String> environment, List<String> jvmOptions,
      java.util.Optional<ClusterTls> tls) throws IOException, InterruptedException {
    int[] ports = {ReplicaProcess.freePort(), ReplicaProcess.freePort(), ReplicaProcess.freePort()};
    Map<Integer, Map<String, String>> overrides = new HashMap<>();
    try {
      for (int from = 0; from < 3; from++) {
        Map<String, String> replicaEnvironment = new HashMap<>(environment);
        for (int to = 0; to < 3; to++) {
          if (to != from) {
            proxies[from][to] = new FaultProxy(tls.isPresent()); // TLS: bytes it cannot read
            proxies[from][to].forwardTo(ports[to]);
            replicaEnvironment.put("PEER_PEER" + to + "_HOST", "127.0.0.1");
            replicaEnvironment.put("PEER_PEER" + to + "_PORT", Integer.toString(proxies[from][to].port()));
          }
        }
        overrides.put(from, replicaEnvironment);
      }
      cluster = new LocalCluster(replicaJar, workDir, jvmOptions, overrides, ports, tls);
    } catch (IOException | InterruptedException | RuntimeException e) {
      closeProxies();
      throw e;
    }
  }

  public String describe() {
    return cluster.describe();
  }

  public String address(int replica) {
    return cluster.replica(replica).address();
  }

  public void kill(int replica) throws InterruptedException {
    cluster.replica(replica).kill();
  }

  /** Starts a killed replica again with its clock offset by {@code clockOffset}, and waits until it answers. */
  public synchronized void restart(int replica, Duration clockOffset) throws IOException, InterruptedException {
    cluster.restartLive(replica, Map.of("CLOCK_OFFSET", clockOffset.toMillis() + "ms"));
    if (clockOffset.isZero()) {
      skewed.remove(replica);
    } else {
      skewed.add(replica);
    }
  }

  /** {@code kill -9} to all three at once (no replica outlives another by more than the signals' delivery). */
  public void killAll() throws InterruptedException {
    for (int replica = 0; replica < 3; replica++) {
      cluster.replica(replica).killNow();
    }
    for (int replica = 0; replica < 3; replica++) {
      cluster.replica(replica).kill();
    }
  }

  /**
   * Starts a killed replica again with its clock right and returns at once: while it starts
   * (seconds, on a busy machine), the next faults go on.
   */
  public synchronized void startAgain(int replica) throws IOException, InterruptedException {
    cluster.startAgain(replica, Map.of());
    skewed.remove(replica);
  }

  /** A replica that does not serve now (still starting after a kill, say), if any. */
  public java.util.Optional<Integer> notServing() {
    for (int replica = 0; replica < 3; replica++) {
      if (!cluster.replica(replica).isServing()) {
        return java.util.Optional.of(replica);
      }
    }
    return java.util.Optional.empty();
  }

  public synchronized void pause(int replica) throws IOException, InterruptedException {
    cluster.replica(replica).pause();
    paused.add(replica);
  }

  public synchronized void resume(int replica) throws IOException, InterruptedException {
    cluster.replica(replica).resume();
    paused.remove(replica);
  }

  /** Applies {@code fault} to the links between {@code replica} and the two others, both ways. */
  public void isolate(int replica, Consumer<FaultProxy> fault) {
    for (int other = 0; other < 3; other++) {
      if (other != replica) {
        fault.accept(proxies[replica][other]);
        fault.accept(proxies[other][replica]);
      }
    }
  }

  /** Every link drops each request with this probability. */
  public void loseEverywhere(double probability) {
    forEachProxy(proxy -> proxy.lose(probability));
  }

  /** Every link drops apply requests with these causes. */
  public void dropCauses(Set<String> causes) {
    forEachProxy(proxy -> proxy.dropCauses(causes));
  }

  public void healNetwork() {
    forEachProxy(FaultProxy::heal);
  }

  /** Heals the network, resumes paused replicas, restarts dead ones and skewed ones with their clocks right. */
  public synchronized void healAll() throws IOException, InterruptedException {
    healNetwork();
    for (int replica = 0; replica < 3; replica++) {
      if (paused.contains(replica)) {
        resume(replica);
      }
      if (skewed.contains(replica)) {
        kill(replica);
      }
      if (!cluster.replica(replica).isAlive()) {
        restart(replica, Duration.ZERO);
      }
    }
  }

  public void awaitAllReady(Duration limit) throws InterruptedException {
    for (int replica = 0; replica < 3; replica++) {
      cluster.replica(replica).awaitHealthy(limit);
    }
  }

  /** Requests the proxies dropped on purpose, by cause. */
  public Map<String, Long> droppedByCause() {
    Map<String, Long> total = new TreeMap<>();
    forEachProxy(proxy -> proxy.droppedByCause().forEach((cause, count) -> total.merge(cause, count, Long::sum)));
    return total;
  }

  /**
   * Reads every live replica's repair counters from {@code /cluster} (read write-backs, read
   * repairs, hints replayed, anti-entropy records copied, tombstones purged) and remembers them
   * per process; call it now and then, so a replica killed later still counts.
   */
  public void sampleRepairCounters() {
    for (ReplicaProcess replica : cluster.replicas()) {
      if (!replica.isAlive()) {
        continue;
      }
      try {
        HttpResponse<String> answer = replica.get("/cluster");
        if (answer.statusCode() == 200) {
          synchronized (countersByProcess) {
            countersByProcess.put(replica.pid(), repairCounters(JSON.readTree(answer.body())));
          }
        }
      } catch (IOException e) {
        // paused or restarting: its last sample stands
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private static Map<String, Long> repairCounters(JsonNode cluster) {
    Map<String, Long> counters = new TreeMap<>();
    JsonNode stats = cluster.path("stats");
    for (String name : List.of("readWriteBacks", "readRepairs", "readsStartedOver", "tombstonesPurged",
        "staleMessagesIgnored")) {
      counters.put(name, stats.path(name).asLong());
    }
    for (JsonNode peer : cluster.path("peers")) {
      counters.merge("hintsReplayed", peer.path("hints").path("replayed").asLong(), Long::sum);
      counters.merge("antiEntropyPulled", peer.path("antiEntropy").path("pulled").asLong(), Long::sum);
      counters.merge("antiEntropyPushed", peer.path("antiEntropy").path("pushed").asLong(), Long::sum);
    }
    return counters;
  }

  /** The repair counters summed over every replica process sampled. */
  public Map<String, Long> repairCounters() {
    Map<String, Long> total = new TreeMap<>();
    synchronized (countersByProcess) {
      countersByProcess.values().forEach(counters -> counters.forEach((name, value) -> total.merge(name, value, Long::sum)));
    }
    return total;
  }

  private void forEachProxy(Consumer<FaultProxy> action) {
    for (FaultProxy[] row : proxies) {
      for (FaultProxy proxy : row) {
        if (proxy != null) {
          action.accept(proxy);
        }
      }
    }
  }

  private void closeProxies() {
    forEachProxy(FaultProxy::close);
  }

  @Override
  public void close() throws InterruptedException {
    try {
      cluster.close();
    } finally {
      closeProxies();
    }
  }
}
