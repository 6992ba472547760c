package io.quorumkv.http;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.headers.ETag;
import akka.http.javadsl.testkit.JUnitRouteTest;
import akka.http.javadsl.testkit.TestRoute;
import akka.http.javadsl.testkit.TestRouteResult;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quorumkv.coordinator.Overloaded;
import io.quorumkv.version.Version;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.Before;
import org.junit.Test;

/**
 * Goal: every status code and error body of the public API, its limits and its handling of
 * malformed input, and that refused requests change nothing. Method: the real routes over a
 * real StoreActor and coordinators (a single replica, or one whose two peers are down),
 * driven by akka-http's route testkit.
 */
public class PublicRoutesTest extends JUnitRouteTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private TestRoute single;
  private TestRoute peersDown;

  @Before
  public void createRoutes() {
    single = testRoute(new RouteFixture(system(), "quorumkv.limits.value-bytes-max = 16", 0).route);
    peersDown = testRoute(new RouteFixture(system(),
        "quorumkv.write-timeout = 300ms\nquorumkv.read-timeout = 300ms\nquorumkv.peer-request-timeout = 200ms", 2).route);
  }

  private static JsonNode json(TestRouteResult result) {
    try {
      result.assertContentType(ContentTypes.APPLICATION_JSON);
      return JSON.readTree(result.entityString());
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  private static String etag(TestRouteResult result) {
    return result.response().getHeader(ETag.class).orElseThrow().etag().tag();
  }

  private TestRouteResult put(TestRoute route, String path, String body) {
    return route.run(HttpRequest.PUT(path).withEntity(ContentTypes.APPLICATION_OCTET_STREAM, body.getBytes()));
  }

  @Test
  public void putAnswersKeyAndVersionAndGetReturnsTheRawValueWithItsEtag() {
    TestRouteResult written = put(single, "/kv/k1", "alpha").assertStatusCode(200);
    JsonNode body = json(written);
    assertEquals("k1", body.get("key").asText());
    Version version = Version.parse(body.get("version").asText());
    assertEquals(version.toString(), etag(written));

    TestRouteResult read = single.run(HttpRequest.GET("/kv/k1")).assertStatusCode(200);
    read.assertContentType(ContentTypes.APPLICATION_OCTET_STREAM).assertEntity("alpha");
    assertEquals(version.toString(), etag(read));
  }

  private TestRouteResult conditional(String method, String path, String body, String header, String value) {
    HttpRequest request = HttpRequest.create(path).withMethod(
        akka.http.javadsl.model.HttpMethods.lookup(method).orElseThrow())
        .addHeader(akka.http.javadsl.model.HttpHeader.parse(header, value));
    return single.run(body == null ? request
        : request.withEntity(ContentTypes.APPLICATION_OCTET_STREAM, body.getBytes()));
  }

  @Test
  public void conditionalWritesApplyOnlyWhenTheConditionHoldsAndA412NamesTheCurrentVersion() {
    String first = etag(conditional("PUT", "/kv/lock", "a", "If-None-Match", "*").assertStatusCode(200));
    JsonNode refused = json(conditional("PUT", "/kv/lock", "b", "If-None-Match", "*").assertStatusCode(412));
    assertEquals("precondition failed", refused.get("error").asText());
    assertEquals("lock", refused.get("key").asText());
    assertEquals(first, refused.get("currentVersion").asText());
    String second = etag(conditional("PUT", "/kv/lock", "c", "If-Match", "\"" + first + "\"").assertStatusCode(200));
    TestRouteResult stale = conditional("PUT", "/kv/lock", "d", "If-Match", "\"" + first + "\"").assertStatusCode(412);
    assertEquals(second, etag(stale));
    single.run(HttpRequest.GET("/kv/lock")).assertStatusCode(200).assertEntity("c");
    conditional("DELETE", "/kv/lock", null, "If-Match", "\"" + first + "\"").assertStatusCode(412);
    conditional("DELETE", "/kv/lock", null, "If-Match", "\"" + second + "\"").assertStatusCode(200);
    JsonNode absent = json(conditional("PUT", "/kv/lock", "e", "If-Match", "\"" + second + "\"").assertStatusCode(412));
    assertTrue("a deleted key has no current version", absent.get("currentVersion").isNull());
    conditional("PUT", "/kv/lock", "f", "If-None-Match", "*").assertStatusCode(200); // a deleted key is absent
  }

  @Test
  public void aGetWithTheCurrentVersionIsNotModified() {
    String version = etag(put(single, "/kv/polled", "v1").assertStatusCode(200));
    TestRouteResult same = conditional("GET", "/kv/polled", null, "If-None-Match", "\"" + version + "\"")
        .assertStatusCode(304);
    assertEquals(version, etag(same));
    assertEquals("", same.entityString());
    conditional("GET", "/kv/polled", null, "If-None-Match", "*").assertStatusCode(304);
    put(single, "/kv/polled", "v2").assertStatusCode(200);
    conditional("GET", "/kv/polled", null, "If-None-Match", "\"" + version + "\"").assertStatusCode(200)
        .assertEntity("v2");
  }

  @Test
  public void malformedOrMisplacedConditionsAre400AndChangeNothing() {
    put(single, "/kv/guarded", "kept").assertStatusCode(200);
    for (String[] bad : new String[][] {
        {"PUT", "If-Match", "not-quoted"}, {"PUT", "If-Match", "\"nonsense\""}, {"PUT", "If-Match", "W/\"1.0\""},
        {"PUT", "If-None-Match", "\"1.0000000000000001\""}, {"DELETE", "If-Match", "*"},
        {"GET", "If-Match", "\"1.0000000000000001\""}, {"GET", "If-None-Match", "garbage"}}) {
      TestRouteResult result = conditional(bad[0], "/kv/guarded", bad[0].equals("PUT") ? "x" : null, bad[1], bad[2])
          .assertStatusCode(400);
      assertFalse(String.join(" ", bad), json(result).get("error").asText().isEmpty());
    }
    HttpRequest both = HttpRequest.PUT("/kv/guarded").withEntity(ContentTypes.APPLICATION_OCTET_STREAM, "x".getBytes())
        .addHeader(akka.http.javadsl.model.HttpHeader.parse("If-Match", "\"1.0000000000000001\""))
        .addHeader(akka.http.javadsl.model.HttpHeader.parse("If-None-Match", "*"));
    single.run(both).assertStatusCode(400);
    JsonNode one = json(conditional("PUT", "/kv/guarded?consistency=one", "x", "If-None-Match", "*")
        .assertStatusCode(400));
    assertTrue(one.get("error").asText(), one.get("error").asText().contains("quorum"));
    single.run(HttpRequest.GET("/kv/guarded")).assertStatusCode(200).assertEntity("kept");
  }

  @Test
  public void missingKeyIs404Json() {
    JsonNode body = json(single.run(HttpRequest.GET("/kv/nope")).assertStatusCode(404));
    assertEquals("not found", body.get("error").asText());
    assertEquals("nope", body.get("key").asText());
  }

  @Test
  public void deleteWritesATombstoneThatHidesTheValue() {
    put(single, "/kv/gone", "v").assertStatusCode(200);
    JsonNode body = json(single.run(HttpRequest.DELETE("/kv/gone")).assertStatusCode(200));
    assertTrue(body.get("deleted").asBoolean());
    single.run(HttpRequest.GET("/kv/gone")).assertStatusCode(404);
    single.run(HttpRequest.DELETE("/kv/never-written")).assertStatusCode(200); // deletes are idempotent
  }

  @Test
  public void emptyKeyIs400() {
    assertEquals("the key is missing: use /kv/{key} (GET /kv?prefix=... lists keys)",
        json(put(single, "/kv/", "v").assertStatusCode(400)).get("error").asText());
    json(single.run(HttpRequest.DELETE("/kv")).assertStatusCode(400));
  }

  @Test
  public void aListingAnswersThePrefixInKeyOrderPageByPage() {
    for (String key : List.of("app%2Fb", "app%2Fa", "app%2Fc", "apple", "zz")) {
      put(single, "/kv/" + key, "v-" + key).assertStatusCode(200);
    }
    single.run(HttpRequest.DELETE("/kv/app%2Fc")).assertStatusCode(200);

    JsonNode first = json(single.run(HttpRequest.GET("/kv?prefix=app%2F&limit=1&values=true")).assertStatusCode(200));
    assertEquals(1, first.get("items").size());
    assertEquals("app/a", first.get("items").get(0).get("key").asText());
    assertEquals("v-app%2Fa", new String(java.util.Base64.getDecoder().decode(
        first.get("items").get(0).get("valueBase64").asText())));
    assertTrue(first.get("items").get(0).hasNonNull("version"));
    String next = first.get("next").asText();

    JsonNode rest = json(single.run(HttpRequest.GET("/kv?prefix=app%2F&limit=10&start="
        + java.net.URLEncoder.encode(next, java.nio.charset.StandardCharsets.UTF_8))).assertStatusCode(200));
    assertEquals(1, rest.get("items").size()); // app/c is deleted
    assertEquals("app/b", rest.get("items").get(0).get("key").asText());
    assertFalse(rest.get("items").get(0).has("valueBase64"));
    assertTrue(rest.get("next").isNull());

    JsonNode all = json(single.run(HttpRequest.GET("/kv")).assertStatusCode(200));
    assertEquals(4, all.get("items").size()); // every key: app/a, app/b, apple, zz
  }

  @Test
  public void malformedListingParametersAre400() {
    for (String query : List.of("limit=0", "limit=1001", "limit=ten", "values=yes", "consistency=most",
        "prefix=%FF", "start=" + "k".repeat(2000))) {
      JsonNode body = json(single.run(HttpRequest.GET("/kv?" + query)).assertStatusCode(400));
      assertTrue(query + ": " + body, body.get("error").asText().length() > 0);
    }
  }

  @Test
  public void keyOfMoreThan1024BytesIs400AndChangesNothing() {
    String longest = "k".repeat(1024);
    put(single, "/kv/" + longest, "ok").assertStatusCode(200);
    // 1026 bytes of UTF-8 in 513 characters
    String tooLong = URLEncoder.encode("é".repeat(513), StandardCharsets.UTF_8);
    JsonNode body = json(put(single, "/kv/" + tooLong, "v").assertStatusCode(400));
    assertTrue(body.get("error").asText().contains("1026 bytes"));
    single.run(HttpRequest.GET("/kv/" + tooLong)).assertStatusCode(400);
  }

  @Test
  public void valueAboveTheLimitIs413AndLeavesTheOldValue() {
    put(single, "/kv/big", "small").assertStatusCode(200);
    put(single, "/kv/big", "x".repeat(16)).assertStatusCode(200);
    JsonNode body = json(put(single, "/kv/big", "x".repeat(17)).assertStatusCode(413));
    assertEquals(16, body.get("limitBytes").asInt());
    json(put(single, "/kv/big", "x".repeat(100_000)).assertStatusCode(413));
    single.run(HttpRequest.GET("/kv/big")).assertStatusCode(200).assertEntity("x".repeat(16));
  }

  @Test
  public void emptyValueIsAValue() {
    put(single, "/kv/empty", "").assertStatusCode(200);
    single.run(HttpRequest.GET("/kv/empty")).assertStatusCode(200).assertEntity("");
  }

  @Test
  public void unknownConsistencyIs400AndChangesNothing() {
    JsonNode body = json(put(single, "/kv/c?consistency=strong", "v").assertStatusCode(400));
    assertEquals("consistency must be one, quorum or all, not 'strong'", body.get("error").asText());
    single.run(HttpRequest.GET("/kv/c")).assertStatusCode(404);
    for (String level : new String[] {"one", "quorum", "all", "QUORUM"}) {
      put(single, "/kv/c?consistency=" + level, level).assertStatusCode(200);
    }
  }

  @Test
  public void percentEncodedKeysAreDecoded() {
    put(single, "/kv/caf%C3%A9%2Fbar", "v").assertStatusCode(200);
    single.run(HttpRequest.GET("/kv/caf%C3%A9%2Fbar")).assertStatusCode(200).assertEntity("v");
    assertTrue(json(single.run(HttpRequest.GET("/kv/caf/bar")).assertStatusCode(400))
        .get("error").asText().contains("%2F"));
  }

  @Test
  public void wrongMethodIs405AndUnknownPathIs404BothJson() {
    json(single.run(HttpRequest.POST("/kv/a")).assertStatusCode(405));
    json(single.run(HttpRequest.GET("/nothing-here")).assertStatusCode(404));
  }

  @Test
  public void writeWithoutQuorumIs503WithCountsAndPhase() {
    JsonNode body = json(put(peersDown, "/kv/k", "v").assertStatusCode(503));
    assertEquals("write quorum not reached", body.get("error").asText());
    assertEquals("version-query", body.get("phase").asText());
    assertEquals(1, body.get("acks").asInt());
    assertEquals(2, body.get("required").asInt());
    assertEquals(3, body.get("replicas").asInt());
    assertEquals("not-applied", body.get("outcome").asText());
    json(peersDown.run(HttpRequest.DELETE("/kv/k")).assertStatusCode(503));
  }

  @Test
  public void readWithoutQuorumIs503WithResponsesAndPhase() {
    JsonNode body = json(peersDown.run(HttpRequest.GET("/kv/k")).assertStatusCode(503));
    assertEquals("read quorum not reached", body.get("error").asText());
    assertEquals("read", body.get("phase").asText());
    assertEquals(1, body.get("responses").asInt());
    assertEquals(2, body.get("required").asInt());
  }

  @Test
  public void consistencyOneWorksWithPeersDown() {
    put(peersDown, "/kv/k?consistency=one", "v").assertStatusCode(200);
    peersDown.run(HttpRequest.GET("/kv/k?consistency=one")).assertStatusCode(200).assertEntity("v");
  }

  @Test
  public void overloadIs503WithRetryAfter() {
    HttpResponse response = PublicRoutes.writeResponse(new Overloaded(10, 10), false, 0L);
    assertEquals(503, response.status().intValue());
    assertTrue(response.getHeader("Retry-After").isPresent());
  }

  @Test
  public void healthAndClusterAnswerJson() {
    assertEquals("ok", json(single.run(HttpRequest.GET("/health")).assertStatusCode(200)).get("status").asText());
    JsonNode cluster = json(single.run(HttpRequest.GET("/cluster")).assertStatusCode(200));
    assertEquals("self", cluster.get("node").asText());
    assertTrue(cluster.get("peers").isArray());
  }

  @Test
  public void liveReadyAndVersionAnswerJson() {
    assertEquals("ok", json(single.run(HttpRequest.GET("/health/live")).assertStatusCode(200)).get("status").asText());
    JsonNode ready = json(single.run(HttpRequest.GET("/health/ready")).assertStatusCode(200));
    assertEquals("ready", ready.get("status").asText());
    assertEquals(0, ready.get("reasons").size());
    assertEquals(1, ready.get("reachableReplicas").asInt());
    JsonNode version = json(single.run(HttpRequest.GET("/version")).assertStatusCode(200));
    assertEquals("v2", version.get("wire").asText());
    assertTrue(version.toString(), version.get("version").asText().matches("\\d+\\.\\d+\\.\\d+.*"));
    String metrics = single.run(HttpRequest.GET("/metrics")).entityString();
    assertTrue(metrics, metrics.contains("quorumkv_build_info{commit=\"" + version.get("commit").asText()
        + "\",version=\"" + version.get("version").asText() + "\"} 1"));
    assertTrue(metrics.contains("quorumkv_storage_commit_duration_seconds_bucket"));
  }

  @Test
  public void metricsCountEveryRequestByOperationConsistencyAndOutcome() {
    put(single, "/kv/m1", "v").assertStatusCode(200);
    single.run(HttpRequest.GET("/kv/m1?consistency=one")).assertStatusCode(200);
    single.run(HttpRequest.GET("/kv/absent")).assertStatusCode(404);
    put(single, "/kv/m1", "a value over the sixteen-byte limit").assertStatusCode(413);
    single.run(HttpRequest.POST("/kv/m1")).assertStatusCode(405);

    TestRouteResult scraped = single.run(HttpRequest.GET("/metrics")).assertStatusCode(200);
    String text = scraped.entityString();
    assertTrue(scraped.response().entity().getContentType().toString(),
        scraped.response().entity().getContentType().toString().startsWith("text/plain"));
    for (String line : new String[] {
        "quorumkv_requests_total{consistency=\"quorum\",op=\"put\",outcome=\"ok\"} 1.0\n",
        "quorumkv_requests_total{consistency=\"one\",op=\"get\",outcome=\"ok\"} 1.0\n",
        "quorumkv_requests_total{consistency=\"quorum\",op=\"get\",outcome=\"not_found\"} 1.0\n",
        "quorumkv_requests_total{consistency=\"quorum\",op=\"put\",outcome=\"rejected\"} 1.0\n",
        "quorumkv_requests_total{consistency=\"quorum\",op=\"other\",outcome=\"rejected\"} 1.0\n",
        "quorumkv_request_duration_seconds_count{consistency=\"quorum\",op=\"put\"} 2\n",
        "quorumkv_requests_in_flight 0.0\n",
        "quorumkv_storage_commits_total 1.0\n"}) {
      assertTrue("missing '" + line + "' in:\n" + text, text.contains(line));
    }
  }

  @Test
  public void metricLabelsNeverComeFromClientInput() {
    // Finding: 3,000 bad consistency parameters grew /metrics to 4.1 MB, one label each.
    int before = single.run(HttpRequest.GET("/metrics")).entityString().length();
    for (int i = 0; i < 200; i++) {
      single.run(HttpRequest.GET("/kv/k?consistency=x" + i)).assertStatusCode(400);
    }
    String text = single.run(HttpRequest.GET("/metrics")).entityString();
    assertTrue(text, text.contains(
        "quorumkv_requests_total{consistency=\"invalid\",op=\"get\",outcome=\"rejected\"} 200.0\n"));
    assertFalse("no label holds the raw parameter", text.contains("x17"));
    assertTrue("one new label set, not 200: " + before + " -> " + text.length(), text.length() - before < 4_000);
  }
}
