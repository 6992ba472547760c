package io.quorumkv.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A stand-in for one replica's public API on 127.0.0.1 (an ephemeral port), for the CLI's
 * tests: it keeps values in a map, and answers the next {@code /kv} request as scripted when
 * told to, so every kind of answer a real replica gives (an indeterminate 503, a not-applied
 * 503, a 400, a 412) can be produced on demand. The cluster tests drive the CLI against real
 * replicas. A {@code ttl} gives the key an expiry counted from a fixed {@link #NOW}, so tests
 * know it in advance; keys never actually expire here.
 */
final class StubReplica implements AutoCloseable {

  /** A scripted answer: status and JSON body. */
  record Answer(int status, String json) {}

  /** The stub's clock, which never moves: a write's expiry is this plus its TTL. */
  static final Instant NOW = Instant.parse("2026-12-07T23:00:00Z");

  /** A TTL as the replica takes it, strictly: digits and a unit. */
  private static final Pattern TTL = Pattern.compile("([0-9]{1,15})(ms|s|m|h|d)");

  private final HttpServer server;
  private final Map<String, byte[]> values = new ConcurrentHashMap<>();
  /** Each key's version, as conditional requests compare it. */
  private final Map<String, String> versions = new ConcurrentHashMap<>();
  /** The expiry of each key written with a TTL. */
  private final Map<String, Instant> expiries = new ConcurrentHashMap<>();
  private final AtomicInteger version = new AtomicInteger();
  private final AtomicInteger kvRequests = new AtomicInteger();
  private final AtomicReference<Answer> nextKvAnswer = new AtomicReference<>();
  private volatile boolean ready = true;
  private volatile String lastAuthorization;
  private volatile String lastKeyQuery;

  StubReplica() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  String endpoint() {
    return "127.0.0.1:" + server.getAddress().getPort();
  }

  int kvRequests() {
    return kvRequests.get();
  }

  void answerNextKvRequest(int status, String json) {
    nextKvAnswer.set(new Answer(status, json));
  }

  void notReady() {
    ready = false;
  }

  /** The Authorization header of the last request, or null. */
  String lastAuthorization() {
    return lastAuthorization;
  }

  byte[] stored(String key) {
    return values.get(key);
  }

  /** The raw query of the last {@code /kv/KEY} request (e.g. {@code consistency=quorum&ttl=30000ms}), or null. */
  String lastKeyQuery() {
    return lastKeyQuery;
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      lastAuthorization = exchange.getRequestHeaders().getFirst("Authorization");
      String path = exchange.getRequestURI().getRawPath();
      if (path.startsWith("/kv/")) {
        kvRequests.incrementAndGet();
        lastKeyQuery = exchange.getRequestURI().getRawQuery();
        Answer scripted = nextKvAnswer.getAndSet(null);
        if (scripted != null) {
          send(exchange, scripted.status(), "application/json", scripted.json().getBytes(StandardCharsets.UTF_8));
          return;
        }
        kv(exchange, URLDecoder.decode(path.substring(4), StandardCharsets.UTF_8));
        return;
      }
      switch (path) {
        case "/kv" -> list(exchange);
        case "/health/ready" -> json(exchange, ready ? 200 : 503, ready
            ? "{\"status\":\"ready\",\"reasons\":[]}"
            : "{\"status\":\"not-ready\",\"reasons\":[\"incarnation unproven: test\"]}");
        case "/admin/snapshot" -> {
          String query = exchange.getRequestURI().getQuery();
          String name = query == null ? "stub-default" : query.replace("name=", "");
          boolean secretOk = "s3cret".equals(exchange.getRequestHeaders().getFirst("X-QuorumKV-Secret"));
          json(exchange, secretOk ? 200 : 403, secretOk
              ? "{\"name\":\"" + name + "\",\"path\":\"/srv/snapshots/" + name + "\",\"bytes\":3145728}"
              : "{\"error\":\"the cluster secret is missing or wrong\"}");
        }
        case "/version" -> json(exchange, 200, "{\"version\":\"9.9.9\",\"commit\":\"abc1234\",\"wire\":\"v2\"}");
        case "/cluster" -> json(exchange, 200, "{\"node\":\"stub\",\"incarnation\":{\"state\":\"ready\"},"
            + "\"clock\":{\"peerOffsetsMillis\":{\"a\":3,\"b\":-7}},\"storage\":{\"bytesOnDisk\":2048},"
            + "\"peers\":[{\"hints\":{\"pending\":4},\"antiEntropy\":{\"lastRound\":null}},"
            + "{\"hints\":{\"pending\":1},\"antiEntropy\":{\"lastRound\":\"2026-01-01T00:00:00Z\"}}]}");
        default -> json(exchange, 404, "{\"error\":\"no such path\"}");
      }
    }
  }

  /** Keys a stub page holds at most, whatever the limit asked: so the CLI must follow {@code next}. */
  static final int PAGE_MAX = 2;

  /** {@code GET /kv?prefix=&start=&limit=&values=}: ASCII keys in order, pages of at most {@link #PAGE_MAX}. */
  private void list(HttpExchange exchange) throws IOException {
    kvRequests.incrementAndGet();
    Map<String, String> query = query(exchange);
    String prefix = query.getOrDefault("prefix", "");
    String start = query.getOrDefault("start", "");
    int limit = Math.min(PAGE_MAX, Integer.parseInt(query.getOrDefault("limit", "100")));
    java.util.List<String> keys = new java.util.TreeSet<>(values.keySet()).stream()
        .filter(key -> key.startsWith(prefix) && key.compareTo(start) >= 0).toList();
    StringBuilder items = new StringBuilder();
    for (String key : keys.subList(0, Math.min(limit, keys.size()))) {
      items.append(items.length() == 0 ? "" : ",").append("{\"key\":\"").append(key).append("\",\"version\":\"")
          .append(versions.get(key)).append('"');
      if (expiries.containsKey(key)) {
        items.append(",\"expiresAt\":\"").append(expiries.get(key)).append('"');
      }
      if ("true".equals(query.get("values"))) {
        items.append(",\"valueBase64\":\"").append(java.util.Base64.getEncoder().encodeToString(values.get(key)))
            .append('"');
      }
      items.append('}');
    }
    String next = keys.size() > limit ? "\"" + keys.get(limit) + "\"" : "null";
    json(exchange, 200, "{\"items\":[" + items + "],\"next\":" + next + "}");
  }

  private void kv(HttpExchange exchange, String key) throws IOException {
    String ifMatch = exchange.getRequestHeaders().getFirst("If-Match");
    String ifNoneMatch = exchange.getRequestHeaders().getFirst("If-None-Match");
    String current = versions.get(key);
    boolean writes = !exchange.getRequestMethod().equals("GET");
    if (writes && (ifMatch != null && !ifMatch.equals("\"" + current + "\"") || ifNoneMatch != null && current != null)) {
      json(exchange, 412, "{\"error\":\"precondition failed\",\"key\":\"" + key + "\",\"currentVersion\":"
          + (current == null ? "null" : "\"" + current + "\"") + "}");
      return;
    }
    switch (exchange.getRequestMethod()) {
      case "PUT" -> put(exchange, key);
      case "DELETE" -> {
        values.remove(key);
        expiries.remove(key);
        writeAnswer(exchange, key, true);
        versions.remove(key);
      }
      default -> {
        byte[] value = values.get(key);
        if (value == null) {
          json(exchange, 404, "{\"error\":\"not found\",\"key\":\"" + key + "\"}");
        } else {
          exchange.getResponseHeaders().add("ETag", "\"v" + version.get() + "\"");
          if (expiries.containsKey(key)) {
            exchange.getResponseHeaders().add("Expires-At", expiries.get(key).toString());
          }
          send(exchange, 200, "application/octet-stream", value);
        }
      }
    }
  }

  /** A put with a {@code ttl} expires at {@link #NOW} plus it; one without makes the key permanent. */
  private void put(HttpExchange exchange, String key) throws IOException {
    String ttl = query(exchange).get("ttl");
    Matcher parsed = TTL.matcher(ttl == null ? "" : ttl);
    boolean expires = parsed.matches();
    if (ttl != null && !expires) {
      json(exchange, 400, "{\"error\":\"a ttl is digits and a unit (ms, s, m, h, d), not '" + ttl + "'\"}");
      return;
    }
    values.put(key, exchange.getRequestBody().readAllBytes());
    if (expires) {
      expiries.put(key, NOW.plus(Duration.of(Long.parseLong(parsed.group(1)), unit(parsed.group(2)))));
    } else {
      expiries.remove(key);
    }
    writeAnswer(exchange, key, false);
  }

  private static ChronoUnit unit(String symbol) {
    return switch (symbol) {
      case "ms" -> ChronoUnit.MILLIS;
      case "s" -> ChronoUnit.SECONDS;
      case "m" -> ChronoUnit.MINUTES;
      case "h" -> ChronoUnit.HOURS;
      default -> ChronoUnit.DAYS;
    };
  }

  /** The query's parameters, decoded; none when it has no query. */
  private static Map<String, String> query(HttpExchange exchange) {
    Map<String, String> query = new java.util.HashMap<>();
    String raw = exchange.getRequestURI().getRawQuery();
    for (String pair : raw == null ? new String[0] : raw.split("&")) {
      String[] parts = pair.split("=", 2);
      query.put(parts[0], URLDecoder.decode(parts.length > 1 ? parts[1] : "", StandardCharsets.UTF_8));
    }
    return query;
  }

  private void writeAnswer(HttpExchange exchange, String key, boolean deleted) throws IOException {
    String written = "v" + version.incrementAndGet();
    versions.put(key, written);
    exchange.getResponseHeaders().add("ETag", "\"" + written + "\"");
    String expiresAt = expiries.containsKey(key) ? ",\"expiresAt\":\"" + expiries.get(key) + "\"" : "";
    json(exchange, 200, "{\"key\":\"" + key + "\",\"version\":\"" + written + "\"" + expiresAt
        + (deleted ? ",\"deleted\":true" : "") + "}");
  }

  private static void json(HttpExchange exchange, int status, String body) throws IOException {
    send(exchange, status, "application/json", body.getBytes(StandardCharsets.UTF_8));
  }

  private static void send(HttpExchange exchange, int status, String type, byte[] body) throws IOException {
    exchange.getResponseHeaders().add("Content-Type", type);
    exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
