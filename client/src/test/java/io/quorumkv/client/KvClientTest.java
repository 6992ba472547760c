package io.quorumkv.client;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.ETag;
import akka.http.javadsl.model.headers.EntityTag;
import akka.http.javadsl.model.headers.RawHeader;
import com.typesafe.config.ConfigFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * Goal: KvClient turns every kind of answer into its result or its own exception. Method: a
 * stub replica on a loopback port answers by key with canned responses.
 */
public class KvClientTest {

  private static ActorSystem<Void> system;
  private static ServerBinding binding;
  private static KvClient client;
  /** Requests the stub answered: a TTL refused by the client must add none. */
  private static final AtomicInteger requests = new AtomicInteger();
  /** The expiry the stub answers for keys with a TTL. */
  private static final String EXPIRES_AT = "2026-12-07T23:30:00.123Z";

  @BeforeClass
  public static void startStub() throws Exception {
    system = ActorSystem.create(Behaviors.empty(), "kv-client-test", ConfigFactory.load("quorumkv-client"));
    binding = Http.get(system).newServerAt("127.0.0.1", 0)
        .bindSync(KvClientTest::answer)
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    client = new KvClient(system, new NodeAddress("127.0.0.1", binding.localAddress().getPort()), Duration.ofSeconds(1));
  }

  @AfterClass
  public static void stop() {
    binding.unbind();
    system.terminate();
  }

  /** The stub replica: the key names the answer. */
  private static HttpResponse answer(HttpRequest request) {
    requests.incrementAndGet();
    String path = request.getUri().path();
    String query = request.getUri().rawQueryString().orElse("");
    if (path.equals("/kv/slow")) {
      try {
        Thread.sleep(2_000); // longer than the client's timeout
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return switch (path) {
      case "/kv/present" -> HttpResponse.create()
          .withEntity(ContentTypes.APPLICATION_OCTET_STREAM, "value".getBytes(StandardCharsets.UTF_8))
          .addHeader(ETag.create(EntityTag.create("5.0000000000000001", false)));
      case "/kv/present-expiring" -> HttpResponse.create()
          .withEntity(ContentTypes.APPLICATION_OCTET_STREAM, "value".getBytes(StandardCharsets.UTF_8))
          .addHeader(ETag.create(EntityTag.create("5.01", false)))
          .addHeader(RawHeader.create("Expires-At", EXPIRES_AT));
      case "/kv/written" -> json(StatusCodes.OK, "{\"key\":\"written\",\"version\":\"6.01\"}")
          .addHeader(ETag.create(EntityTag.create("6.01", false)));
      // A 200 only for the ttl in milliseconds after the consistency; anything else is refused, naming it.
      case "/kv/expiring" -> query.equals("consistency=all&ttl=90000ms")
          ? json(StatusCodes.OK, "{\"key\":\"expiring\",\"version\":\"7.01\",\"expiresAt\":\"" + EXPIRES_AT
              + "\"}")
          : json(StatusCodes.BAD_REQUEST, "{\"error\":\"unexpected query " + query + "\"}");
      case "/kv/garbled-expiry" -> json(StatusCodes.OK, "{\"key\":\"garbled-expiry\",\"version\":\"8.01\","
          + "\"expiresAt\":\"tomorrow\"}");
      case "/kv/ttl-gated" -> json(StatusCodes.SERVICE_UNAVAILABLE, "{\"error\":\"ttl not available until every"
          + " replica runs a build that supports it\",\"outcome\":\"not-applied\"}");
      case "/kv/absent" -> json(StatusCodes.NOT_FOUND, "{\"error\":\"not found\"}");
      case "/kv/bad" -> json(StatusCodes.BAD_REQUEST, "{\"error\":\"the key is bad\"}");
      case "/kv/down" -> json(StatusCodes.SERVICE_UNAVAILABLE,
          "{\"error\":\"write quorum not reached\",\"phase\":\"apply\",\"acks\":1,\"required\":2,\"outcome\":\"indeterminate\"}");
      case "/kv/a%2Fb" -> json(StatusCodes.OK, "{\"key\":\"a/b\",\"version\":\"1.01\"}");
      case "/kv/overloaded" -> json(StatusCodes.SERVICE_UNAVAILABLE, "{\"error\":\"overloaded\"}");
      case "/kv/not-applied" -> json(StatusCodes.SERVICE_UNAVAILABLE,
          "{\"error\":\"write quorum not reached\",\"phase\":\"version-query\",\"outcome\":\"not-applied\"}");
      default -> json(StatusCodes.INTERNAL_SERVER_ERROR, "{\"error\":\"boom\"}");
    };
  }

  private static HttpResponse json(akka.http.javadsl.model.StatusCode status, String body) {
    return HttpResponse.create().withStatus(status).withEntity(ContentTypes.APPLICATION_JSON, body);
  }

  private static <T> KvException failure(CompletionStage<T> stage) {
    try {
      stage.toCompletableFuture().join();
    } catch (CompletionException e) {
      return (KvException) e.getCause();
    }
    fail("expected a failure");
    return null;
  }

  @Test
  public void getReturnsTheValueAndItsVersion() {
    KvClient.Entry entry = client.get("present").toCompletableFuture().join().orElseThrow();
    assertArrayEquals("value".getBytes(StandardCharsets.UTF_8), entry.value());
    assertEquals("5.0000000000000001", entry.version());
    assertEquals(Optional.empty(), entry.expiresAt());
  }

  @Test
  public void getReturnsTheExpiryOfTheExpiresAtHeader() {
    KvClient.Entry entry = client.get("present-expiring").toCompletableFuture().join().orElseThrow();
    assertEquals("5.01", entry.version());
    assertEquals(Optional.of(Instant.parse(EXPIRES_AT)), entry.expiresAt());
  }

  @Test
  public void everyPutWithTtlSendsItInMillisecondsAndReturnsTheExpiry() {
    Duration ttl = Duration.ofSeconds(90);
    for (CompletionStage<KvClient.Written> put : List.of(
        client.put("expiring", new byte[] {1}, ttl, Consistency.ALL),
        client.putIfAbsent("expiring", new byte[] {1}, ttl, Consistency.ALL),
        client.compareAndSet("expiring", new byte[] {1}, "6.01", ttl, Consistency.ALL))) {
      KvClient.Written written = put.toCompletableFuture().join();
      assertEquals("7.01", written.version());
      assertEquals(Optional.of(Instant.parse(EXPIRES_AT)), written.expiresAt());
    }
  }

  @Test
  public void aTtlOutsideOneSecondToTenYearsIsRefusedWithoutARequest() {
    int before = requests.get();
    for (Duration ttl : List.of(Duration.ofSeconds(-1), Duration.ZERO, Duration.ofMillis(999),
        Duration.ofSeconds(1).minusNanos(1), Duration.ofMillis(315_576_000_001L), Duration.ofDays(11 * 365))) {
      assertThrows(ttl.toString(), IllegalArgumentException.class, () -> client.put("expiring", new byte[] {1}, ttl));
      assertThrows(ttl.toString(), IllegalArgumentException.class,
          () -> client.putIfAbsent("expiring", new byte[] {1}, ttl));
      assertThrows(ttl.toString(), IllegalArgumentException.class,
          () -> client.compareAndSet("expiring", new byte[] {1}, "6.01", ttl));
    }
    assertEquals(before, requests.get());
    // The bounds themselves are TTLs (ten years of 365.25 days).
    KvClient.checkTtl(Duration.ofSeconds(1));
    KvClient.checkTtl(Duration.ofMillis(315_576_000_000L));
  }

  @Test
  public void aTtlRefusedUntilEveryReplicaSupportsItIsUnavailableAndNotApplied() {
    KvException e = failure(client.put("ttl-gated", new byte[] {1}, Duration.ofMinutes(5)));
    assertTrue(e.toString(), e instanceof KvException.Unavailable);
    assertFalse(((KvException.Unavailable) e).isIndeterminate());
    assertFalse(e.mayHaveBeenApplied());
    assertTrue(e.isRetryable());
    assertTrue(e.getMessage(), e.getMessage().contains("ttl not available until every replica runs a build"));
  }

  @Test
  public void anExpiryThatIsNotAnInstantIsUnexpected() {
    KvException e = failure(client.put("garbled-expiry", new byte[] {1}, Duration.ofMinutes(5)));
    assertTrue(e.toString(), e instanceof KvException.UnexpectedResponse);
    assertTrue(e.getMessage(), e.getMessage().contains("expiry 'tomorrow'"));
  }

  @Test
  public void notFoundIsEmpty() {
    assertEquals(Optional.empty(), client.get("absent").toCompletableFuture().join());
  }

  @Test
  public void putAndDeleteReturnTheVersion() {
    KvClient.Written written = client.put("written", new byte[] {1}).toCompletableFuture().join();
    assertEquals("6.01", written.version());
    assertEquals(Optional.empty(), written.expiresAt());
    assertEquals("6.01", client.delete("written").toCompletableFuture().join().version());
  }

  @Test
  public void keysAreSentAsOnePathSegment() {
    // The stub answers a 200 only for the encoded form; a raw "/kv/a/b" would get its 500.
    assertEquals("1.01", client.put("a/b", new byte[] {1}).toCompletableFuture().join().version());
  }

  @Test
  public void rejectionIsNotRetryable() {
    KvException e = failure(client.put("bad", new byte[] {1}));
    assertTrue(e instanceof KvException.Rejected);
    assertEquals(400, ((KvException.Rejected) e).status());
    assertTrue(e.getMessage().contains("the key is bad"));
    assertFalse(e.isRetryable());
  }

  @Test
  public void unavailableCarriesTheIndeterminateOutcome() {
    KvException e = failure(client.put("down", new byte[] {1}));
    assertTrue(e instanceof KvException.Unavailable);
    assertTrue(((KvException.Unavailable) e).isIndeterminate());
    assertTrue(e.getMessage(), e.getMessage().contains("phase=apply"));
    assertTrue(e.isRetryable());
  }

  @Test
  public void serverErrorIsUnexpected() {
    assertTrue(failure(client.get("other")) instanceof KvException.UnexpectedResponse);
  }

  @Test
  public void slowAnswerTimesOut() {
    KvException e = failure(client.get("slow"));
    assertTrue(e.toString(), e instanceof KvException.TimedOut);
  }

  @Test
  public void refusedConnectionIsUnreachable() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }
    KvClient nowhere = new KvClient(system, new NodeAddress("127.0.0.1", closedPort), Duration.ofSeconds(2));
    KvException e = failure(nowhere.put("anything", new byte[] {1}));
    assertTrue(e.toString(), e instanceof KvException.Unreachable);
    assertTrue(e.isRetryable());
    assertFalse("a refused connection sent nothing", e.mayHaveBeenApplied());
  }

  @Test
  public void aConnectionResetAfterSendingMayHaveAppliedTheWrite() throws Exception {
    // Finding: a reset after the request was sent was reported as "not applied".
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Thread resetter = new Thread(() -> {
        try (java.net.Socket accepted = socket.accept()) {
          accepted.getInputStream().read(new byte[4096]); // the request arrived
          accepted.setSoLinger(true, 0); // then a reset instead of an answer
        } catch (java.io.IOException e) {
          // the test fails on the client's side if this goes wrong
        }
      });
      resetter.start();
      KvClient resetting = new KvClient(system, new NodeAddress("127.0.0.1", socket.getLocalPort()),
          Duration.ofSeconds(5));
      KvException e = failure(resetting.put("k", new byte[] {1}));
      resetter.join(10_000);
      assertTrue(e.toString(), e instanceof KvException.Unreachable);
      assertTrue(e.mayHaveBeenApplied());
    }
  }

  @Test
  public void a503WithoutAnOutcomeIsIndeterminateAndOnlyNotAppliedRulesTheWriteOut() {
    // Finding: a 503 without an outcome field (overloaded) was reported as "not applied".
    KvException overloaded = failure(client.put("overloaded", new byte[] {1}));
    assertTrue(((KvException.Unavailable) overloaded).isIndeterminate());
    assertTrue(overloaded.mayHaveBeenApplied());
    KvException notApplied = failure(client.put("not-applied", new byte[] {1}));
    assertFalse(((KvException.Unavailable) notApplied).isIndeterminate());
    assertFalse(notApplied.mayHaveBeenApplied());
  }

  @Test
  public void retryingGivesUpAtOnceOnARejection() {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    long started = System.nanoTime();
    try {
      Retrying.until(deadline, () -> client.put("bad", new byte[] {1}));
      fail("expected a rejection");
    } catch (KvException.Rejected expected) {
      assertTrue(System.nanoTime() - started < Duration.ofSeconds(10).toNanos());
    }
  }
}
