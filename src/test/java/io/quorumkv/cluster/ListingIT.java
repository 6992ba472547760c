package io.quorumkv.cluster;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quorumkv.torture.LocalCluster;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TestName;

/**
 * Goal: listing (docs/listing-watch-ttl.md, "Listing") on real replica processes over real HTTP.
 * 2,500 keys under a prefix, others beside it, listed in pages of 1,000 through each replica with
 * one replica down: every key once, in order, none outside the prefix. With hinted handoff and
 * anti-entropy off, a replica that missed writes, an overwrite and a delete neither hides the
 * writes nor brings back the deleted key or the old value when the listing goes through it.
 */
public class ListingIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private static final List<String> JVM_OPTIONS = List.of(
      "-Dquorumkv.write-timeout=2s", "-Dquorumkv.read-timeout=2s", "-Dquorumkv.peer-request-timeout=800ms");
  /** Nothing repairs a replica behind the listing's back: what it missed, it keeps missing. */
  private static final Map<String, String> NO_REPAIRS = Map.of("HINTS", "false", "ANTI_ENTROPY", "false");

  @Rule
  public final TestName testName = new TestName();

  private Path logDir() {
    return Path.of("target", "cluster-it", testName.getMethodName());
  }

  private static Map<Integer, Map<String, String>> everyReplica(Map<String, String> environment) {
    return Map.of(0, environment, 1, environment, 2, environment);
  }

  private static String encoded(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static HttpResponse<String> send(String method, String address, String path, String body) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + address + path))
        .timeout(Duration.ofSeconds(20))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build();
    return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
  }

  private static void put(String address, String key, String value) throws Exception {
    HttpResponse<String> answer = send("PUT", address, "/kv/" + encoded(key), value);
    assertEquals(answer.body(), 200, answer.statusCode());
  }

  /** Every key and value of {@code prefix} through {@code address}, following {@code next}; counts the pages. */
  private static Map<String, String> listAll(String address, String prefix, int limit, List<Integer> pageSizes)
      throws Exception {
    Map<String, String> listed = new LinkedHashMap<>();
    String start = "";
    for (int pages = 0; pages < 100; pages++) {
      HttpResponse<String> answer = send("GET", address, "/kv?prefix=" + encoded(prefix) + "&start="
          + encoded(start) + "&limit=" + limit + "&values=true", null);
      assertEquals(answer.body(), 200, answer.statusCode());
      JsonNode body = JSON.readTree(answer.body());
      pageSizes.add(body.get("items").size());
      for (JsonNode item : body.get("items")) {
        String key = item.get("key").asText();
        assertFalse("listed twice: " + key, listed.containsKey(key));
        listed.put(key, new String(Base64.getDecoder().decode(item.get("valueBase64").asText()),
            StandardCharsets.UTF_8));
      }
      if (body.get("next").isNull()) {
        return listed;
      }
      start = body.get("next").asText();
    }
    throw new AssertionError("more than 100 pages");
  }

  @Test(timeout = 300_000)
  public void everyKeyOfThePrefixIsListedOnceInOrderThroughEachReplicaWithOneDown() throws Exception {
    try (LocalCluster cluster = new LocalCluster(ClusterFixture.REPLICA_JAR, logDir(), JVM_OPTIONS, Map.of())) {
      Map<String, String> expected = new LinkedHashMap<>();
      ExecutorService pool = Executors.newFixedThreadPool(8);
      try {
        List<Future<?>> writes = new ArrayList<>();
        for (int i = 0; i < 2_600; i++) {
          String key = i < 2_500 ? String.format("svc/%05d", i) : String.format("svd/%05d", i); // 100 beside it
          if (i < 2_500) {
            expected.put(key, "v" + i);
          }
          String address = cluster.replica(i % 3).address();
          int n = i;
          writes.add(pool.submit(() -> {
            put(address, key, "v" + n);
            return null;
          }));
        }
        for (Future<?> write : writes) {
          write.get(60, TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
      }
      cluster.replica(2).kill();
      for (int through = 0; through < 2; through++) {
        List<Integer> pageSizes = new ArrayList<>();
        Map<String, String> listed = listAll(cluster.replica(through).address(), "svc/", 1_000, pageSizes);
        assertEquals(new ArrayList<>(expected.keySet()), new ArrayList<>(listed.keySet()));
        assertEquals(expected, listed);
        // At most 1,000 a page; fewer when a page's 48 KiB of entries run out first (about 550 keys here).
        assertTrue("pages of at most 1,000: " + pageSizes, pageSizes.stream().allMatch(size -> size <= 1_000)
            && pageSizes.stream().filter(size -> size > 0).count() >= 3);
      }
    }
  }

  @Test(timeout = 300_000)
  public void aReplicaThatMissedWritesAndADeleteChangesNothingInTheListing() throws Exception {
    try (LocalCluster cluster = new LocalCluster(ClusterFixture.REPLICA_JAR, logDir(), JVM_OPTIONS,
        everyReplica(NO_REPAIRS))) {
      String a = cluster.replica(0).address();
      for (int i = 0; i < 10; i++) {
        put(a, "cfg/" + i, "old" + i);
      }
      cluster.replica(2).kill(); // misses what follows
      put(a, "cfg/4", "new4");
      put(a, "cfg/new", "added");
      assertEquals(200, send("DELETE", a, "/kv/cfg%2F7", null).statusCode());
      cluster.restart(2);
      cluster.replica(1).kill(); // the listing now needs the stale replica's page
      Map<String, String> expected = new LinkedHashMap<>();
      for (int i = 0; i < 10; i++) {
        if (i != 7) {
          expected.put("cfg/" + i, i == 4 ? "new4" : "old" + i);
        }
      }
      expected.put("cfg/new", "added");
      for (int through : new int[] {2, 0}) {
        Map<String, String> listed = listAll(cluster.replica(through).address(), "cfg/", 3, new ArrayList<>());
        assertEquals("through peer" + through, expected, listed);
      }
    }
  }
}
