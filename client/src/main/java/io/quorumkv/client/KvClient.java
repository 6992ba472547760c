package io.quorumkv.client;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.Http;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpHeader;
import akka.http.javadsl.model.HttpMethods;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.headers.ETag;
import akka.stream.Materializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * An asynchronous client of one QuorumKV replica (any replica coordinates any request).
 * Every call completes within the client's timeout, with its result or exceptionally with a
 * {@link KvException} saying what kind of failure it was.
 */
public final class KvClient {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final NodeAddress node;
  private final Duration timeout;
  private final Http http;
  private final Materializer materializer;
  private final Optional<akka.http.javadsl.model.headers.Authorization> authorization;
  private final Optional<ClientTls> tls;
  /** {@code http://host:port} or {@code https://host:port}. */
  private final String base;

  /** The shortest TTL a replica accepts. */
  private static final Duration TTL_MIN = Duration.ofSeconds(1);
  /** The longest: ten years of 365.25 days, as the replica counts them. */
  private static final Duration TTL_MAX = Duration.ofMillis(315_576_000_000L);

  /** The header of a read answer that carries the key's expiry, when it has a TTL. */
  private static final String EXPIRES_AT_HEADER = "Expires-At";

  /**
   * A write that W replicas acknowledged, at {@code version}; {@code expiresAt} when it was
   * written with a TTL.
   */
  public record Written(String key, String version, Optional<Instant> expiresAt) {
    /** A write without expiry: a delete, or a put without TTL. */
    public Written(String key, String version) {
      this(key, version, Optional.empty());
    }
  }

  /** A value read back, with its version (the ETag) and, when it has a TTL, its expiry. */
  public record Entry(String key, byte[] value, String version, Optional<Instant> expiresAt) {
    /** A value without expiry. */
    public Entry(String key, byte[] value, String version) {
      this(key, value, version, Optional.empty());
    }

    public String valueAsUtf8() {
      return new String(value, StandardCharsets.UTF_8);
    }
  }

  public KvClient(ActorSystem<?> system, NodeAddress node, Duration timeout) {
    this(system, node, timeout, Credentials.NONE);
  }

  /**
   * A client that presents {@code credentials}: its token as {@code Authorization: Bearer} on
   * every request (replicas with tokens), HTTPS with its TLS (replicas with TLS).
   */
  public KvClient(ActorSystem<?> system, NodeAddress node, Duration timeout, Credentials credentials) {
    this.authorization = credentials.token().map(akka.http.javadsl.model.headers.Authorization::oauth2);
    this.tls = credentials.tls();
    this.base = credentials.scheme() + "://" + node;
    this.node = node;
    this.timeout = timeout;
    this.http = Http.get(system);
    this.materializer = Materializer.matFromSystem(system);
  }

  public NodeAddress node() {
    return node;
  }

  public CompletionStage<Written> put(String key, byte[] value) {
    return put(key, value, Consistency.QUORUM);
  }

  public CompletionStage<Written> put(String key, byte[] value, Consistency consistency) {
    return send(putRequest(uri(key, consistency), value)).thenApply(answer -> written(key, answer));
  }

  /**
   * Writes {@code value} to expire {@code ttl} after the write (1 s to 10 years, else an
   * {@link IllegalArgumentException} and no request); a later put without TTL makes the key
   * permanent again. An answer without {@link Written#expiresAt} came from a replica that ignored
   * the TTL (a build before TTLs): the key is then permanent.
   *
   * @throws KvException.Unavailable (in the stage), not applied, until every replica runs a build with TTLs
   */
  public CompletionStage<Written> put(String key, byte[] value, Duration ttl) {
    return put(key, value, ttl, Consistency.QUORUM);
  }

  public CompletionStage<Written> put(String key, byte[] value, Duration ttl, Consistency consistency) {
    return send(putRequest(uri(key, consistency, ttl), value)).thenApply(answer -> written(key, answer));
  }

  /**
   * Writes {@code value} only if the key's current version is exactly {@code expectedVersion} (an
   * ETag as {@link Entry#version()} gives it): linearizable with every other write of the key.
   *
   * @throws KvException.PreconditionFailed (in the stage) when the key holds another version or none
   */
  public CompletionStage<Written> compareAndSet(String key, byte[] value, String expectedVersion) {
    return compareAndSet(key, value, expectedVersion, Consistency.QUORUM);
  }

  public CompletionStage<Written> compareAndSet(String key, byte[] value, String expectedVersion,
      Consistency consistency) {
    HttpRequest request = putRequest(uri(key, consistency), value)
        .addHeader(HttpHeader.parse("If-Match", quoted(expectedVersion)));
    return send(request).thenApply(answer -> written(key, answer));
  }

  /** {@link #compareAndSet} with a TTL, as {@link #put(String, byte[], Duration)} takes it. */
  public CompletionStage<Written> compareAndSet(String key, byte[] value, String expectedVersion, Duration ttl) {
    return compareAndSet(key, value, expectedVersion, ttl, Consistency.QUORUM);
  }

  public CompletionStage<Written> compareAndSet(String key, byte[] value, String expectedVersion, Duration ttl,
      Consistency consistency) {
    HttpRequest request = putRequest(uri(key, consistency, ttl), value)
        .addHeader(HttpHeader.parse("If-Match", quoted(expectedVersion)));
    return send(request).thenApply(answer -> written(key, answer));
  }

  /** Writes {@code value} only if the key is absent or deleted. */
  public CompletionStage<Written> putIfAbsent(String key, byte[] value) {
    return putIfAbsent(key, value, Consistency.QUORUM);
  }

  public CompletionStage<Written> putIfAbsent(String key, byte[] value, Consistency consistency) {
    HttpRequest request = putRequest(uri(key, consistency), value).addHeader(HttpHeader.parse("If-None-Match", "*"));
    return send(request).thenApply(answer -> written(key, answer));
  }

  /** {@link #putIfAbsent} with a TTL, as {@link #put(String, byte[], Duration)} takes it. */
  public CompletionStage<Written> putIfAbsent(String key, byte[] value, Duration ttl) {
    return putIfAbsent(key, value, ttl, Consistency.QUORUM);
  }

  public CompletionStage<Written> putIfAbsent(String key, byte[] value, Duration ttl, Consistency consistency) {
    HttpRequest request = putRequest(uri(key, consistency, ttl), value)
        .addHeader(HttpHeader.parse("If-None-Match", "*"));
    return send(request).thenApply(answer -> written(key, answer));
  }

  private static HttpRequest putRequest(String uri, byte[] value) {
    return HttpRequest.PUT(uri).withEntity(ContentTypes.APPLICATION_OCTET_STREAM, value);
  }

  /** Refuses a TTL every replica would refuse (400), before anything is sent. */
  public static void checkTtl(Duration ttl) {
    if (ttl.compareTo(TTL_MIN) < 0 || ttl.compareTo(TTL_MAX) > 0) {
      throw new IllegalArgumentException("a TTL is 1 s to 10 years, not " + ttl.toMillis() + " ms");
    }
  }

  /** Deletes the key only if its current version is exactly {@code expectedVersion}. */
  public CompletionStage<Written> deleteIfMatch(String key, String expectedVersion) {
    return deleteIfMatch(key, expectedVersion, Consistency.QUORUM);
  }

  public CompletionStage<Written> deleteIfMatch(String key, String expectedVersion, Consistency consistency) {
    HttpRequest request = HttpRequest.create().withMethod(HttpMethods.DELETE).withUri(uri(key, consistency))
        .addHeader(HttpHeader.parse("If-Match", quoted(expectedVersion)));
    return send(request).thenApply(answer -> written(key, answer));
  }

  private static String quoted(String version) {
    if (version == null || version.isEmpty() || version.contains("\"")) {
      throw new IllegalArgumentException("an expected version is a version as an ETag gives it, not " + version);
    }
    return "\"" + version + "\"";
  }

  /** The value of {@code key}, or empty when it is absent or deleted. */
  public CompletionStage<Optional<Entry>> get(String key) {
    return get(key, Consistency.QUORUM);
  }

  public CompletionStage<Optional<Entry>> get(String key, Consistency consistency) {
    return send(HttpRequest.GET(uri(key, consistency))).thenApply(answer -> {
      if (answer.status() == 404) {
        return Optional.empty();
      }
      expectOk(answer);
      return Optional.of(new Entry(key, answer.body(), answer.version(), expiry(answer.expiresAt())));
    });
  }

  public CompletionStage<Written> delete(String key) {
    return delete(key, Consistency.QUORUM);
  }

  public CompletionStage<Written> delete(String key, Consistency consistency) {
    return send(HttpRequest.create().withMethod(HttpMethods.DELETE).withUri(uri(key, consistency)))
        .thenApply(answer -> written(key, answer));
  }

  /** One page of a listing: its entries in key order (values only when asked for), and where the next starts. */
  public record Page(java.util.List<Entry> entries, Optional<String> next) {}

  /**
   * One page of the keys starting with {@code prefix}, from {@code start} on (empty: from the
   * first), at most {@code limit} (1 to 1,000); an entry's value is empty unless {@code values}.
   * A page may hold fewer entries than the limit, even none, and still have a next one: follow
   * {@link Page#next} until it is empty, or use {@link #listAll}.
   */
  public CompletionStage<Page> list(String prefix, String start, int limit, boolean values, Consistency consistency) {
    String uri = base + "/kv?prefix=" + encoded(prefix) + "&start=" + encoded(start) + "&limit=" + limit
        + "&values=" + values + "&consistency=" + consistency.label();
    return send(HttpRequest.GET(uri)).thenApply(answer -> {
      expectOk(answer);
      JsonNode body = parseJson(answer.body());
      java.util.List<Entry> entries = new java.util.ArrayList<>();
      for (JsonNode item : body.path("items")) {
        byte[] value = item.hasNonNull("valueBase64")
            ? java.util.Base64.getDecoder().decode(item.get("valueBase64").asText()) : new byte[0];
        entries.add(new Entry(item.path("key").asText(), value, item.path("version").asText(),
            expiry(item.path("expiresAt"))));
      }
      JsonNode next = body.path("next");
      return new Page(entries, next.isTextual() ? Optional.of(next.asText()) : Optional.empty());
    });
  }

  /** Every key starting with {@code prefix}, page after page of {@code pageLimit}: not a snapshot across pages. */
  public CompletionStage<java.util.List<Entry>> listAll(String prefix, int pageLimit, boolean values,
      Consistency consistency) {
    java.util.List<Entry> all = new java.util.ArrayList<>();
    return listFrom(prefix, "", pageLimit, values, consistency, all);
  }

  private CompletionStage<java.util.List<Entry>> listFrom(String prefix, String start, int pageLimit, boolean values,
      Consistency consistency, java.util.List<Entry> into) {
    return list(prefix, start, pageLimit, values, consistency).thenCompose(page -> {
      into.addAll(page.entries());
      return page.next().isPresent()
          ? listFrom(prefix, page.next().get(), pageLimit, values, consistency, into)
          : java.util.concurrent.CompletableFuture.completedFuture(into);
    });
  }

  private static String encoded(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** A JSON document the replica answered with, whatever its status (e.g. a 503 of {@code /health/ready}). */
  public record JsonAnswer(int status, JsonNode body) {}

  /**
   * {@code GET path} (e.g. {@code /cluster}), its body read as JSON; fails only when the replica
   * cannot be reached in time or its body is not JSON.
   */
  public CompletionStage<JsonAnswer> fetchJson(String path) {
    return json(HttpRequest.GET(base + path), path);
  }

  /** The header that carries the cluster secret, when the replicas have one, on admin calls. */
  public static final String SECRET_HEADER = "X-QuorumKV-Secret";

  /**
   * {@code POST path} with no body (an admin call, e.g. {@code /admin/snapshot}), its answer read
   * as JSON; {@code clusterSecret} goes in {@link #SECRET_HEADER} when not empty.
   */
  public CompletionStage<JsonAnswer> postJson(String path, String clusterSecret) {
    HttpRequest request = HttpRequest.POST(base + path);
    if (clusterSecret != null && !clusterSecret.isEmpty()) {
      request = request.addHeader(akka.http.javadsl.model.HttpHeader.parse(SECRET_HEADER, clusterSecret));
    }
    return json(request, path);
  }

  private CompletionStage<JsonAnswer> json(HttpRequest request, String path) {
    return send(request).thenApply(answer -> {
      try {
        return new JsonAnswer(answer.status(), JSON.readTree(answer.body()));
      } catch (IOException e) {
        throw new KvException.UnexpectedResponse("answer " + answer.status() + " from " + node + path + " is not JSON");
      }
    });
  }

  /** Completes normally when the replica answers its health check. */
  public CompletionStage<Void> health() {
    return send(HttpRequest.GET(base + "/health")).thenApply(answer -> {
      expectOk(answer);
      return null;
    });
  }

  private String uri(String key, Consistency consistency) {
    // A key is one path segment: encode everything, including '/', and spaces as %20.
    String segment = URLEncoder.encode(key, StandardCharsets.UTF_8).replace("+", "%20");
    return base + "/kv/" + segment + "?consistency=" + consistency.label();
  }

  /** The TTL in milliseconds: a unit the replica's strict {@code <digits><unit>} takes for every TTL. */
  private String uri(String key, Consistency consistency, Duration ttl) {
    checkTtl(ttl);
    return uri(key, consistency) + "&ttl=" + ttl.toMillis() + "ms";
  }

  /** One answer read whole; only statuses are interpreted by the callers. */
  private record Answer(int status, byte[] body, String version, Optional<String> expiresAt) {}

  private CompletionStage<Answer> send(HttpRequest unauthorized) {
    HttpRequest request = authorization.map(unauthorized::addHeader).orElse(unauthorized);
    CompletionStage<HttpResponse> response = tls.isPresent()
        ? http.singleRequest(request, tls.get().connectionContext()) : http.singleRequest(request);
    return response
        .thenCompose(this::read)
        .toCompletableFuture()
        .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
        .handle((answer, failure) -> {
          if (failure == null) {
            return answer;
          }
          throw classify(failure);
        });
  }

  private CompletionStage<Answer> read(HttpResponse response) {
    String version = response.getHeader(ETag.class).map(etag -> etag.etag().tag()).orElse(null);
    Optional<String> expiresAt = response.getHeader(EXPIRES_AT_HEADER).map(HttpHeader::value);
    return response.entity().toStrict(timeout.toMillis(), materializer)
        .thenApply(strict -> new Answer(response.status().intValue(), strict.getData().toArray(), version, expiresAt));
  }

  private KvException classify(Throwable failure) {
    Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    if (cause instanceof KvException known) {
      return known;
    }
    if (cause instanceof TimeoutException) {
      return new KvException.TimedOut(node, timeout);
    }
    return new KvException.Unreachable(node, cause);
  }

  /** The version from the documented body {@code {"key","version","expiresAt"?}}, else from the ETag. */
  private Written written(String key, Answer answer) {
    expectOk(answer);
    JsonNode body = parseJson(answer.body());
    return new Written(key, body.path("version").asText(answer.version()), expiry(body.path("expiresAt")));
  }

  /** The expiry in a JSON answer's {@code expiresAt}, when there is one. */
  private Optional<Instant> expiry(JsonNode expiresAt) {
    return expiry(expiresAt.isTextual() ? Optional.of(expiresAt.asText()) : Optional.empty());
  }

  /** An expiry the replica sent, an ISO-8601 instant; anything else is an answer this client does not understand. */
  private Optional<Instant> expiry(Optional<String> text) {
    try {
      return text.map(Instant::parse);
    } catch (DateTimeParseException e) {
      throw new KvException.UnexpectedResponse(
          "expiry '" + text.get() + "' from " + node + " is not an ISO-8601 instant");
    }
  }

  private void expectOk(Answer answer) {
    if (answer.status() == 200) {
      return;
    }
    JsonNode error = parseJson(answer.body());
    String message = error.path("error").asText("(no error message)");
    if (answer.status() == 503) {
      // Only an explicit "not-applied" rules the write out; anything else may have been applied.
      boolean indeterminate = !"not-applied".equals(error.path("outcome").asText());
      throw new KvException.Unavailable(message + describe(error), indeterminate);
    }
    if (answer.status() == 412) {
      JsonNode current = error.path("currentVersion");
      throw new KvException.PreconditionFailed(error.path("key").asText(""),
          current.isTextual() ? Optional.of(current.asText()) : Optional.empty());
    }
    if (answer.status() >= 400 && answer.status() < 500) {
      throw new KvException.Rejected(answer.status(), message);
    }
    throw new KvException.UnexpectedResponse("unexpected answer " + answer.status() + " from " + node + ": " + message);
  }

  private static String describe(JsonNode error) {
    StringBuilder details = new StringBuilder();
    error.fields().forEachRemaining(field -> {
      if (!field.getKey().equals("error")) {
        details.append(details.length() == 0 ? " (" : ", ").append(field.getKey()).append('=').append(field.getValue().asText());
      }
    });
    return details.length() == 0 ? "" : details.append(')').toString();
  }

  private static JsonNode parseJson(byte[] body) {
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      return JSON.createObjectNode().put("error", new String(body, StandardCharsets.UTF_8));
    }
  }

}
