package io.quorumkv.http;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.testkit.JUnitRouteTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quorumkv.store.Record;
import io.quorumkv.store.ReplicaProtocol;
import io.quorumkv.store.ReplicaProtocol.Apply;
import io.quorumkv.store.ReplicaProtocol.Cause;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.Value;
import io.quorumkv.wire.InternalHttp;
import io.quorumkv.wire.WireCodec;
import io.quorumkv.version.HybridLogicalClock;
import io.quorumkv.version.Version;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Goal: no request, valid or not, can make a replica answer a 5xx other than the documented
 * ones, change anything it did not say it changed, or stop. Method: a replica's real routes
 * (one replica, N = 1, so valid writes complete) bound to a loopback port and driven over raw
 * sockets — so akka-http's own parser is fuzzed too — with seeded random requests: valid public
 * and internal requests, and mutations of them (bytes flipped, inserted, cut; huge and broken
 * paths, percent-encodings, headers, bodies, CBOR). A model keeps what the valid requests (and
 * mutations that were still valid, as the replica's answer says) wrote; at the end every key is
 * read back and compared.
 *
 * <p>The seed is printed; {@code -Dquorumkv.test.seed=N} replays a run and
 * {@code -Dquorumkv.test.fuzz.iterations=N} makes it longer (CI runs 1,500; see docs/testing.md).
 */
public class RoutesFuzzTest extends JUnitRouteTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int VALUE_BYTES_MAX = 4096;
  /** Answers a request may get without it being a bug. 501 and 505 come from akka-http's parser. */
  private static final Set<Integer> ALLOWED = Set.of(200, 400, 403, 404, 405, 411, 413, 414, 415, 431, 501, 505);

  /** What a key holds: a value, or null for a tombstone, at a version. */
  private record Held(Version version, byte[] value) {}

  private final long seed = Long.getLong("quorumkv.test.seed", System.nanoTime());
  private final int iterations = Integer.getInteger("quorumkv.test.fuzz.iterations", 1_500);
  private final Random random = new Random(seed);
  private final Map<String, Held> model = new HashMap<>();
  private final List<String> keys = new ArrayList<>();
  private final Map<Integer, Integer> statuses = new HashMap<>();
  private ServerBinding binding;
  private int port;
  private long lastHlc;

  @Before
  public void bindAReplica() throws Exception {
    System.out.println("RoutesFuzzTest seed " + seed + " (replay with -Dquorumkv.test.seed=" + seed + ")");
    RouteFixture fixture = new RouteFixture(system(), "quorumkv.limits.value-bytes-max = " + VALUE_BYTES_MAX, 0);
    binding = Http.get(system()).newServerAt("127.0.0.1", 0).bind(fixture.route)
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    port = binding.localAddress().getPort();
    for (int i = 0; i < 12; i++) {
      keys.add(i % 3 == 0 ? "k/" + i + " é" : "k" + i);
    }
  }

  @After
  public void unbind() throws Exception {
    binding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** One answer: its status (0 when the connection closed without one) and body. */
  private record Answer(int status, byte[] body) {
    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  @Test
  public void noRequestBreaksTheReplicaOrChangesWhatItDidNotSay() throws Exception {
    for (int i = 0; i < iterations; i++) {
      int kind = random.nextInt(100);
      try {
        if (kind < 15) {
          validPut();
        } else if (kind < 22) {
          validDelete();
        } else if (kind < 35) {
          validGet();
        } else if (kind < 45) {
          validInternalApply();
        } else if (kind < 75) {
          mutatedPublic();
        } else {
          mutatedInternal();
        }
      } catch (AssertionError e) {
        throw new AssertionError("iteration " + i + " (seed " + seed + "): " + e.getMessage(), e);
      }
    }
    for (String key : keys) {
      assertHolds(key);
    }
    System.out.println("RoutesFuzzTest answers by status: " + statuses);
    assertTrue("the run made valid writes", model.size() > 0);
  }

  // --- valid requests -----------------------------------------------------------------------

  private String path(String key, String query) {
    return "/kv/" + URLEncoder.encode(key, StandardCharsets.UTF_8).replace("+", "%20") + query;
  }

  private byte[] randomValue() {
    byte[] value = new byte[random.nextInt(64)];
    random.nextBytes(value);
    return value;
  }

  private void validPut() throws IOException {
    String key = keys.get(random.nextInt(keys.size()));
    byte[] value = randomValue();
    Answer answer = send(request("PUT", path(key, ""), value, "application/octet-stream"));
    assertEquals(answer.text(), 200, answer.status());
    remember(key, new Held(versionOf(answer), value));
  }

  private void validDelete() throws IOException {
    String key = keys.get(random.nextInt(keys.size()));
    Answer answer = send(request("DELETE", path(key, ""), new byte[0], null));
    assertEquals(answer.text(), 200, answer.status());
    remember(key, new Held(versionOf(answer), null));
  }

  private void validGet() throws IOException {
    assertHolds(keys.get(random.nextInt(keys.size())));
  }

  private void assertHolds(String key) throws IOException {
    Answer answer = send(request("GET", path(key, ""), new byte[0], null));
    Held held = model.get(key);
    if (held == null || held.value() == null) {
      assertEquals(key + ": " + answer.text(), 404, answer.status());
    } else {
      assertEquals(key + ": " + answer.text(), 200, answer.status());
      assertTrue(key + " holds what was written", Arrays.equals(held.value(), answer.body()));
    }
  }

  /** Records what the replica said it wrote; the versions it issued count for {@link #freshHlc}. */
  private void remember(String key, Held held) {
    model.put(key, held);
    lastHlc = Math.max(lastHlc, held.version().hlc());
  }

  /** A fresh version, above every one issued so far, as a peer's coordinator would issue it. */
  private long freshHlc() {
    lastHlc = Math.max(lastHlc + 1, HybridLogicalClock.fromMillis(System.currentTimeMillis()));
    return lastHlc;
  }

  private void validInternalApply() throws IOException {
    String key = keys.get(random.nextInt(keys.size()));
    boolean tombstone = random.nextInt(4) == 0;
    long hlc = freshHlc();
    Version version = new Version(hlc, 77L);
    Record record = tombstone ? Record.tombstone(version) : Record.of(version, Value.wrap(randomValue()));
    Apply call = new Apply(key, record, new Stamp(77L, hlc), Cause.WRITE);
    Answer answer = send(request("POST", InternalHttp.CALL_TARGET + "?cause=write", WireCodec.encode(call),
        WireCodec.CONTENT_TYPE));
    assertEquals(answer.text(), 200, answer.status());
    assertEquals("a fresh apply is applied", record.version(), appliedVersion(answer));
    applyToModel(key, record);
  }

  /** The version an answered apply says the replica holds now. */
  private static Version appliedVersion(Answer answer) throws IOException {
    ReplicaProtocol.Answer said = WireCodec.decode(answer.body(), ReplicaProtocol.Answer.class);
    if (!(said instanceof ReplicaProtocol.Applied applied)) {
      throw new AssertionError("a 200 apply answered " + said);
    }
    return applied.version();
  }

  private void applyToModel(String key, Record record) {
    Held held = model.get(key);
    if (held == null || record.version().isAfter(held.version())) {
      model.put(key, new Held(record.version(), record.isTombstone() ? null : record.value().bytes()));
    }
  }

  private static Version versionOf(Answer answer) throws IOException {
    return Version.parse(JSON.readTree(answer.body()).get("version").asText());
  }

  // --- mutations ------------------------------------------------------------------------------

  private void mutatedPublic() throws IOException {
    String key = keys.get(random.nextInt(keys.size()));
    byte[] raw = switch (random.nextInt(10)) {
      case 0 -> request("PUT", "/kv/" + "x".repeat(1_000 + random.nextInt(2_000)), randomValue(), null);
      case 1 -> request("PUT", path(key, ""), new byte[VALUE_BYTES_MAX + 1 + random.nextInt(10_000)], null);
      case 2 -> request(pick("GET", "PUT", "DELETE", "POST", "PATCH", "FOO", "OPTIONS"),
          pick("/kv/%zz", "/kv/%00", "/kv/a/b", "/kv/", "/kv", "/kv/%2F%2F", "/kv/%E0%A4", "/../kv/a", "/kv/a?consistency=x"
              + random.nextInt(), "/kv/a?consistency=", "/kv/a?consistency=ONE&consistency=all", "/metrics?x", "/cluster"),
          randomValue(), null);
      case 3 -> request("GET", path(key, ""), new byte[0], null, "X-Big: " + "y".repeat(10_000 + random.nextInt(100_000)));
      case 4 -> request("PUT", path(key, ""), randomValue(), null, "Content-Length: 7");
      case 5 -> ("GET " + path(key, "") + " HTTP/1.1\r\nHost: x\r\n").getBytes(StandardCharsets.ISO_8859_1); // cut short
      default -> mutate(request(pick("PUT", "GET", "DELETE"), path(key, ""), randomValue(), null));
    };
    judgePublic(send(raw));
  }

  /** A mutated public request that still succeeded must say what it did; the model follows it. */
  private void judgePublic(Answer answer) throws IOException {
    assertAllowed(answer);
    if (answer.status() != 200 || answer.body().length == 0 || answer.body()[0] != '{') {
      return; // a 200 GET (raw value), or nothing changed
    }
    JsonNode said;
    try {
      said = JSON.readTree(answer.body());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      return; // a 200 GET whose raw value merely starts with '{' (found with seed 9290622469649)
    }
    if (said.has("key") && said.has("version")) {
      String key = said.get("key").asText();
      if (!keys.contains(key)) {
        keys.add(key);
      }
      // The value a mutated PUT stored is what the replica read; learn it with a valid GET.
      Answer now = send(request("GET", path(key, ""), new byte[0], null));
      Version version = Version.parse(said.get("version").asText());
      boolean deleted = said.path("deleted").asBoolean(false);
      assertEquals(now.text(), deleted ? 404 : 200, now.status());
      remember(key, new Held(version, deleted ? null : now.body()));
    }
  }

  private void mutatedInternal() throws IOException {
    String key = keys.get(random.nextInt(keys.size()));
    long hlc = freshHlc();
    Stamp stamp = new Stamp(78L, hlc);
    Version version = new Version(hlc, 78L);
    ReplicaProtocol.Request call = switch (random.nextInt(7)) {
      case 0 -> new Apply(key, Record.of(version, Value.wrap(randomValue())), stamp, Cause.WRITE);
      case 1 -> new ReplicaProtocol.Read(key, stamp, Cause.READ);
      case 2 -> new ReplicaProtocol.ReadVersion(key, stamp);
      case 3 -> new ReplicaProtocol.ListEntries(List.of(random.nextInt(1024)), 1 + random.nextInt(100),
          random.nextBoolean(), stamp);
      case 4 -> new ReplicaProtocol.CheckTombstone(key, version, stamp);
      case 5 -> new ReplicaProtocol.GetBuckets(stamp);
      default -> new ReplicaProtocol.Ping();
    };
    byte[] body = WireCodec.encode(call);
    byte[] sent = switch (random.nextInt(5)) {
      case 0 -> deepCbor(1 + random.nextInt(5_000));
      case 1 -> Arrays.copyOf(body, random.nextInt(body.length + 1));
      case 2 -> {
        byte[] random1 = new byte[random.nextInt(200)];
        random.nextBytes(random1);
        yield random1;
      }
      default -> flip(body);
    };
    Answer answer = send(request("POST", pick(InternalHttp.CALL_TARGET, InternalHttp.CALL_TARGET + "?cause=write",
        "/internal/v2/nope", "/internal/v1/apply"),
        sent, random.nextInt(10) == 0 ? "text/plain" : WireCodec.CONTENT_TYPE));
    assertAllowed(answer);
    if (answer.status() == 200) {
      Optional<ReplicaProtocol.Request> decoded = decodeRequest(sent);
      assertTrue("a 200 for a request this test cannot decode: the wire accepts what the codec refuses",
          decoded.isPresent());
      if (decoded.get() instanceof Apply applied) {
        // Still a valid apply: it changes exactly what its (mutated) body says, unless the
        // answer names another version. Then the replica kept what it held (an older record,
        // or a stamp a flipped bit aged past max-message-age, found with seed 21832496616672),
        // and what it held is what the model holds.
        if (!keys.contains(applied.key())) {
          keys.add(applied.key());
        }
        Version holds = appliedVersion(answer);
        if (holds.equals(applied.record().version())) {
          applyToModel(applied.key(), applied.record());
        } else {
          Held held = model.get(applied.key());
          assertEquals("an apply not taken names the version held", held == null ? Version.ZERO : held.version(), holds);
        }
        lastHlc = Math.max(lastHlc, applied.record().version().hlc());
      }
    }
  }

  private static Optional<ReplicaProtocol.Request> decodeRequest(byte[] body) {
    try {
      return Optional.of(WireCodec.decode(body, ReplicaProtocol.Request.class));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** A CBOR array nested {@code depth} deep. */
  private static byte[] deepCbor(int depth) {
    byte[] nested = new byte[depth + 1];
    Arrays.fill(nested, 0, depth, (byte) 0x81); // array of one element
    nested[depth] = 0x01;
    return nested;
  }

  private byte[] mutate(byte[] raw) {
    return switch (random.nextInt(3)) {
      case 0 -> flip(raw);
      case 1 -> {
        int at = random.nextInt(raw.length);
        byte[] inserted = new byte[raw.length + 1];
        System.arraycopy(raw, 0, inserted, 0, at);
        inserted[at] = (byte) random.nextInt(256);
        System.arraycopy(raw, at, inserted, at + 1, raw.length - at);
        yield inserted;
      }
      default -> {
        int from = random.nextInt(raw.length);
        int to = Math.min(raw.length, from + 1 + random.nextInt(8));
        byte[] cut = new byte[raw.length - (to - from)];
        System.arraycopy(raw, 0, cut, 0, from);
        System.arraycopy(raw, to, cut, from, raw.length - to);
        yield cut;
      }
    };
  }

  private byte[] flip(byte[] bytes) {
    byte[] flipped = bytes.clone();
    for (int n = 1 + random.nextInt(3); n > 0 && flipped.length > 0; n--) {
      flipped[random.nextInt(flipped.length)] ^= (byte) (1 << random.nextInt(8));
    }
    return flipped;
  }

  private String pick(String... choices) {
    return choices[random.nextInt(choices.length)];
  }

  private void assertAllowed(Answer answer) {
    statuses.merge(answer.status(), 1, Integer::sum);
    if (answer.status() != 0 && !ALLOWED.contains(answer.status())) {
      fail("answered " + answer.status() + ": " + answer.text());
    }
  }

  // --- the wire -------------------------------------------------------------------------------

  private static byte[] request(String method, String path, byte[] body, String contentType, String... headers) {
    StringBuilder head = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: fuzz\r\n");
    boolean explicitLength = false;
    for (String header : headers) {
      head.append(header).append("\r\n");
      explicitLength |= header.toLowerCase().startsWith("content-length:");
    }
    if (contentType != null) {
      head.append("Content-Type: ").append(contentType).append("\r\n");
    }
    if (!explicitLength) {
      head.append("Content-Length: ").append(body.length).append("\r\n");
    }
    head.append("Connection: close\r\n\r\n");
    byte[] start = head.toString().getBytes(StandardCharsets.UTF_8);
    byte[] raw = Arrays.copyOf(start, start.length + body.length);
    System.arraycopy(body, 0, raw, start.length, body.length);
    return raw;
  }

  /**
   * Sends {@code raw} on a new connection, half-closes it, and reads the answer until the
   * replica closes (bounded: a read that stalls fails the test after 20 s).
   */
  private Answer send(byte[] raw) throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      socket.setSoTimeout(20_000);
      OutputStream out = socket.getOutputStream();
      try {
        out.write(raw);
        out.flush();
        socket.shutdownOutput();
      } catch (IOException e) {
        // the replica closed early (a refused request): read what it said
      }
      ByteArrayOutputStream received = new ByteArrayOutputStream();
      InputStream in = socket.getInputStream();
      byte[] buffer = new byte[8192];
      try {
        for (int read; (read = in.read(buffer)) >= 0 && received.size() < (4 << 20); ) {
          received.write(buffer, 0, read);
        }
      } catch (java.net.SocketException e) {
        // reset by the replica after refusing: what came before counts
      }
      return parse(received.toByteArray());
    }
  }

  private static Answer parse(byte[] response) {
    String text = new String(response, StandardCharsets.ISO_8859_1);
    if (!text.startsWith("HTTP/1.1 ")) {
      return new Answer(0, new byte[0]);
    }
    int status = Integer.parseInt(text.substring(9, 12));
    int bodyStart = text.indexOf("\r\n\r\n");
    byte[] body = bodyStart < 0 ? new byte[0] : Arrays.copyOfRange(response, bodyStart + 4, response.length);
    if (text.substring(0, Math.max(0, bodyStart)).toLowerCase().contains("transfer-encoding: chunked")) {
      body = dechunk(body);
    }
    return new Answer(status, body);
  }

  private static byte[] dechunk(byte[] chunked) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    int at = 0;
    while (at < chunked.length) {
      int lineEnd = indexOf(chunked, at);
      if (lineEnd < 0) {
        break;
      }
      int size = Integer.parseInt(new String(chunked, at, lineEnd - at, StandardCharsets.ISO_8859_1).split(";")[0].trim(), 16);
      if (size == 0) {
        break;
      }
      body.write(chunked, lineEnd + 2, size);
      at = lineEnd + 2 + size + 2;
    }
    return body.toByteArray();
  }

  private static int indexOf(byte[] bytes, int from) {
    for (int i = from; i + 1 < bytes.length; i++) {
      if (bytes[i] == '\r' && bytes[i + 1] == '\n') {
        return i;
      }
    }
    return -1;
  }
}
