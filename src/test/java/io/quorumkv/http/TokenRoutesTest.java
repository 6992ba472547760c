package io.quorumkv.http;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.headers.RawHeader;
import akka.http.javadsl.testkit.JUnitRouteTest;
import akka.http.javadsl.testkit.TestRoute;
import akka.http.javadsl.testkit.TestRouteResult;
import io.quorumkv.security.AccessAudit;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.Before;
import org.junit.Test;

/**
 * Goal: with an AUTH_TOKENS_FILE, each role against each route: allowed, 401 (missing or unknown
 * token, with WWW-Authenticate: Bearer) or 403 (role too low); sha256: tokens; the file re-read
 * when it changes, a malformed version keeping the tokens it held; /health stays open, /metrics
 * too unless METRICS_AUTH.
 */
public class TokenRoutesTest extends JUnitRouteTest {

  private static final String READER = "reader-token-0123456789";
  private static final String WRITER = "writer-token-0123456789";
  private static final String ADMIN = "admin-token-01234567890";
  private static final String HASHED = "hashed-token-0123456789";

  private Path file;
  private RouteFixture fixture;
  private TestRoute route;

  private static String sha256(String text) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
  }

  @Before
  public void createRoute() throws Exception {
    file = Files.createTempFile("tokens", ".txt");
    Files.write(file, List.of(
        "# tokens for the test",
        READER + " read dashboards",
        WRITER + " readwrite app   # the application",
        "sha256:" + sha256(HASHED) + " readwrite hashed-app",
        ADMIN + " admin ops"));
    fixture = new RouteFixture(system(), "quorumkv.auth.tokens-file = \"" + file + "\"", 0);
    route = testRoute(fixture.route);
  }

  private static HttpRequest as(String token, HttpRequest request) {
    return RouteFixture.from("192.0.2.7", token == null ? request
        : request.addHeader(RawHeader.create("Authorization", "Bearer " + token)));
  }

  private int status(String token, HttpRequest request) {
    return route.run(as(token, request)).response().status().intValue();
  }

  @Test
  public void eachRoleAgainstEachRoute() {
    assertEquals(200, status(WRITER, HttpRequest.PUT("/kv/k").withEntity("v")));
    assertEquals(200, status(HASHED, HttpRequest.PUT("/kv/k2").withEntity("v")));
    assertEquals(403, status(READER, HttpRequest.PUT("/kv/k").withEntity("v")));
    assertEquals(403, status(READER, HttpRequest.DELETE("/kv/k")));
    assertEquals(200, status(READER, HttpRequest.GET("/kv/k")));
    assertEquals(200, status(ADMIN, HttpRequest.GET("/kv/k")));
    assertEquals(200, status(READER, HttpRequest.GET("/cluster")));
    assertEquals(401, status(null, HttpRequest.GET("/kv/k")));
    assertEquals(401, status("not-a-known-token-at-all", HttpRequest.GET("/kv/k")));
    assertEquals(401, status(null, HttpRequest.GET("/cluster")));
    // Admin calls: an admin token, and from loopback (a token travels in clear until TLS exists).
    assertEquals(403, status(ADMIN, HttpRequest.POST("/admin/retire/nobody"))); // 192.0.2.7 is not loopback
    assertEquals(404, route.run(RouteFixture.from("127.0.0.1", HttpRequest.POST("/admin/retire/nobody")
        .addHeader(RawHeader.create("Authorization", "bearer " + ADMIN)))).response().status().intValue()); // admitted
    assertEquals(403, route.run(RouteFixture.from("127.0.0.1", HttpRequest.POST("/admin/retire/nobody")
        .addHeader(RawHeader.create("Authorization", "Bearer " + WRITER)))).response().status().intValue());
    assertEquals(401, route.run(RouteFixture.from("::1", HttpRequest.POST("/admin/snapshot"))).response().status()
        .intValue());
    // Open whatever the token.
    assertEquals(200, status(null, HttpRequest.GET("/health")));
    assertEquals(200, status(null, HttpRequest.GET("/health/ready")));
    assertEquals(200, status(null, HttpRequest.GET("/version")));
    assertEquals(200, status(null, HttpRequest.GET("/metrics")));
    assertEquals(3, fixture.audit.count(AccessAudit.AuthRefusal.MISSING_TOKEN));
    assertEquals(1, fixture.audit.count(AccessAudit.AuthRefusal.UNKNOWN_TOKEN));
    assertEquals(3, fixture.audit.count(AccessAudit.AuthRefusal.ROLE_TOO_LOW));
    assertEquals(1, fixture.audit.count(io.quorumkv.security.NetworkAccess.Refusal.ADMIN_NOT_LOOPBACK));
  }

  @Test
  public void aMissingTokenIsAnsweredWithTheBearerChallenge() {
    TestRouteResult refused = route.run(as(null, HttpRequest.GET("/kv/k"))).assertStatusCode(401);
    assertTrue(refused.entityString(), refused.entityString().contains("Authorization: Bearer"));
    assertTrue(refused.response().getHeader("WWW-Authenticate").map(h -> h.value()).orElse("").startsWith("Bearer"));
    route.run(as("wrong", HttpRequest.GET("/kv/k"))).assertStatusCode(401);
    // A refused write changed nothing.
    route.run(as(READER, HttpRequest.PUT("/kv/untouched").withEntity("v"))).assertStatusCode(403);
    route.run(as(READER, HttpRequest.GET("/kv/untouched"))).assertStatusCode(404);
  }

  @Test
  public void theFileIsReadAgainWhenItChangesAndAMalformedVersionKeepsTheTokens() throws Exception {
    String added = "added-token-0123456789";
    Files.write(file, List.of(added + " read", READER + " read"));
    fixture.tokens.orElseThrow().reloadIfChanged();
    assertEquals("admitted (no such key)", 404, status(added, HttpRequest.GET("/kv/k")));
    assertEquals(401, status(WRITER, HttpRequest.GET("/kv/k"))); // revoked
    List<List<String>> spoilers = List.of(List.of("short read"), List.of(), List.of(added + " read", added + " admin"));
    for (List<String> spoilt : spoilers) {
      Files.write(file, spoilt); // malformed, empty (as while an editor rewrites it), a duplicate
      fixture.tokens.orElseThrow().reloadIfChanged();
      assertEquals("refused " + spoilt + ", the last good tokens kept", 404, status(added, HttpRequest.GET("/kv/k")));
    }
    // A same-sized edit within one timestamp tick is seen too: the content is compared, not the time.
    FileTime time = Files.getLastModifiedTime(file);
    String swapped = "swapp-token-0123456789";
    Files.write(file, List.of(swapped + " read", READER + " read"));
    Files.setLastModifiedTime(file, time);
    fixture.tokens.orElseThrow().reloadIfChanged();
    assertEquals(404, status(swapped, HttpRequest.GET("/kv/k")));
    assertEquals(401, status(added, HttpRequest.GET("/kv/k")));
  }

  @Test
  public void metricsNeedATokenWhenMetricsAuthIsOn() throws Exception {
    TestRoute guarded = testRoute(new RouteFixture(system(),
        "quorumkv.auth.tokens-file = \"" + file + "\"\nquorumkv.auth.metrics = true", 0).route);
    assertEquals(401, guarded.run(as(null, HttpRequest.GET("/metrics"))).response().status().intValue());
    assertEquals(200, guarded.run(as(READER, HttpRequest.GET("/metrics"))).response().status().intValue());
  }
}
