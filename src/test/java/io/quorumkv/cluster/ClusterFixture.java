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
  static final Path CLIENT_JAR = Path.of(System.getProperty("quorumkv.clientJar", "client/target/quorumkv-client.jar"));

  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private ClusterFixture() {}

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
