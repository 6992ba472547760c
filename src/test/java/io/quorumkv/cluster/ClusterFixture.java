package io.quorumkv.cluster;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;

/** What the cluster tests share: the built jars and a plain HTTP call. */
final class ClusterFixture {

  static final Path REPLICA_JAR = Path.of(System.getProperty("quorumkv.replicaJar", "target/quorumkv-replica.jar"));
  /**
   * Settings under which a rebuilding replica waits 10 s (max-message-age + skew margin) before it
   * checks its peers' proposals, rather than the default 2 minutes (docs/conditional-writes.md,
   * "Replaced replicas"); the least max-message-age and skew margin a 2 s clock offset allows.
   */
  static final java.util.List<String> FAST_REBUILD = java.util.List.of("-Dquorumkv.max-clock-offset=2s",
      "-Dquorumkv.max-message-age=6s", "-Dquorumkv.tombstones.skew-margin=4s");
  static final Path CLIENT_JAR = Path.of(System.getProperty("quorumkv.clientJar", "client/target/quorumkv-client.jar"));

  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private ClusterFixture() {}

  /**
   * Makes {@code to} a copy of directory {@code from} (what was there is deleted first), as an
   * operator restores a backup; RocksDB's {@code LOCK} file is left out, as a file copy of a
   * stopped replica would not need it.
   */
  static void replaceDirectory(Path from, Path to) throws IOException {
    io.quorumkv.torture.LocalCluster.deleteRecursively(to);
    try (java.util.stream.Stream<Path> files = java.nio.file.Files.walk(from)) {
      for (Path file : files.toList()) {
        Path target = to.resolve(from.relativize(file).toString());
        if (java.nio.file.Files.isDirectory(file)) {
          java.nio.file.Files.createDirectories(target);
        } else if (!file.getFileName().toString().equals("LOCK")) {
          java.nio.file.Files.copy(file, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  /** A script's exit status and everything it printed. */
  record ScriptRun(int exitStatus, String output) {}

  /**
   * Runs {@code command} with its output in {@code log}, at most four minutes; a script still
   * running then gets SIGTERM (its trap cleans up) and, a minute later, SIGKILL.
   */
  static ScriptRun runScript(Path log, String... command) throws IOException, InterruptedException {
    java.nio.file.Files.createDirectories(log.toAbsolutePath().getParent());
    Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!process.waitFor(240, java.util.concurrent.TimeUnit.SECONDS)) {
      process.destroy();
      process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS);
      process.destroyForcibly();
      process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
    }
    return new ScriptRun(process.isAlive() ? -1 : process.exitValue(), java.nio.file.Files.readString(log));
  }

  /** Whether this JVM runs as root with iproute2 at hand (network namespaces). */
  static boolean canMakeNetworkNamespaces() throws IOException, InterruptedException {
    Process id = new ProcessBuilder("id", "-u").redirectErrorStream(true).start();
    String uid = new String(id.getInputStream().readAllBytes()).trim();
    boolean hasIp = java.nio.file.Files.isExecutable(Path.of("/usr/sbin/ip"))
        || java.nio.file.Files.isExecutable(Path.of("/sbin/ip"));
    return id.waitFor(10, java.util.concurrent.TimeUnit.SECONDS) && uid.equals("0") && hasIp;
  }

  static HttpResponse<String> send(String method, String address, String path, String body)
      throws IOException, InterruptedException {
    HttpRequest.BodyPublisher publisher = body == null
        ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body);
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + address + path))
        .timeout(Duration.ofSeconds(15))
        .method(method, publisher)
        .build();
    return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
  }
}
