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

  /**
   * @param overrides per replica index, env entries replacing its default PEER_* entries
   */
  LocalCluster(Path logDir, List<String> jvmOptions, Map<Integer, Map<String, String>> overrides)
      throws IOException, InterruptedException {
    for (int i = 0; i < 3; i++) {
      ports[i] = ReplicaProcess.freePort();
    }
    try {
      for (int i = 0; i < 3; i++) {
        Map<String, String> peers = new HashMap<>(peerEnvironment(i));
        peers.putAll(overrides.getOrDefault(i, Map.of()));
        replicas.add(ReplicaProcess.start("peer" + i, ports[i], peers, jvmOptions, logDir));
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
