package io.quorumkv.torture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quorumkv.torture.Operation.Kind;
import io.quorumkv.torture.Operation.Outcome;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiFunction;
import java.util.function.IntFunction;

/**
 * Concurrent clients doing random reads, writes (a unique value each) and deletes on a few
 * keys through random replicas, each recording what it saw. A client waits for each answer
 * before its next request, so its own operations never overlap.
 *
 * <p>Writes go to two keys at a time, a pair that moves on every {@link #PHASE} (four reads in
 * five go to that pair, the rest to any key): a key that leaves the pair is deleted by client 0 and then left alone for a
 * while, long enough for its tombstone to be settled and purged, so the runs exercise
 * purging as well as contention.
 *
 * <p>Counters: some clients increment a counter (read it, then write the next number with
 * {@code If-Match} on the version read, or {@code If-None-Match: *} when absent; a 412 makes it
 * read and try again). The counter keys ({@code counter0}, {@code counter1}) are touched by
 * nothing else, so their final value must lie between the increments that succeeded and those
 * plus the ones whose outcome is unknown ({@link #counterProblems}); the same increments also go
 * to the hot keys, mixed with plain writes. Values stay unique ({@code <n>/c<client>-<seq>}).
 *
 * <p>It speaks plain HTTP (the JDK client, HTTP/1.1) rather than the QuorumKV client library,
 * so what is recorded is exactly what came over the wire, and the outcome of every failure is
 * classified from the answer itself (see {@link Operation.Outcome}).
 */
public final class Workload {

  private static final ObjectMapper JSON = new ObjectMapper();
  static final Duration PHASE = Duration.ofSeconds(6);
  /** Keys only the counters touch. */
  static final List<String> COUNTER_KEYS = List.of("counter0", "counter1");
  /** Attempts of one increment (each a read, then a conditional write) before the client moves on. */
  static final int INCREMENT_ATTEMPTS = 5;

  /**
   * @param clients concurrent clients
   * @param keys the keys, {@code k0..k(keys-1)}
   * @param consistency the {@code consistency} parameter of every request
   * @param requestTimeout how long a client waits for an answer (then the outcome is unknown)
   */
  /**
   * @param maxClockOffsetMillis the cluster's {@code max-clock-offset}: one value write in five
   *     then carries a TTL of 2 to 6 s, and its expiry goes into the history with the window this
   *     offset gives it ({@link Operation#expiry}); 0: no TTLs
   */
  public record Settings(int clients, int keys, String consistency, Duration requestTimeout, long seed,
      long maxClockOffsetMillis) {}

  private final Settings settings;
  private final IntFunction<String> addressOfReplica;
  private final long startNanos;
  private final HttpClient http;
  private final String scheme;
  private final List<Operation> history = Collections.synchronizedList(new ArrayList<>());
  private final AtomicBoolean stopping = new AtomicBoolean();
  private final List<Thread> threads = new ArrayList<>();
  private final LongAdder[] outcomes = {new LongAdder(), new LongAdder(), new LongAdder()};

  /**
   * @param addressOfReplica host:port of replica 0..2, asked anew for every request (a
   *     restarted replica keeps its port)
   * @param startNanos the run's time origin ({@link System#nanoTime()})
   * @param tls present: HTTPS with the cluster's client certificate
   */
  public Workload(
      Settings settings, IntFunction<String> addressOfReplica, long startNanos, java.util.Optional<ClusterTls> tls) {
    this.settings = settings;
    this.addressOfReplica = addressOfReplica;
    this.startNanos = startNanos;
    this.http = ClusterTls.httpClient(tls, settings.requestTimeout());
    this.scheme = ClusterTls.scheme(tls);
  }

  public void start() {
    for (int client = 0; client < settings.clients(); client++) {
      int id = client;
      Thread thread = new Thread(() -> runClient(id), "torture-client-" + id);
      thread.setDaemon(true);
      threads.add(thread);
      thread.start();
    }
  }

  /**
   * Stops the clients after their current request. A client that has not stopped within a
   * minute fails the run: a request still in flight would be missing from the history.
   */
  public void stop() throws InterruptedException {
    stopping.set(true);
    for (Thread thread : threads) {
      thread.join(60_000);
      if (thread.isAlive()) {
        throw new IllegalStateException(thread.getName() + " did not stop: its last request never ended");
      }
    }
  }

  public String key(int index) {
    return "k" + index;
  }

  /** Operations so far by outcome: ok, fail, unknown. */
  public long[] outcomeCounts() {
    return new long[] {outcomes[0].sum(), outcomes[1].sum(), outcomes[2].sum()};
  }

  /** Everything recorded, in completion order. */
  public List<Operation> history() {
    synchronized (history) {
      return List.copyOf(history);
    }
  }

  private void runClient(int client) {
    Random random = new Random(settings.seed() * 1_000_003L + client);
    int sequence = 0;
    long phase = 0;
    while (!stopping.get()) {
      long now = now() / PHASE.toNanos();
      if (client == 0 && settings.keys() > 2) {
        for (; phase < now && !stopping.get(); phase++) { // the key leaving the written pair is deleted once
          record(write(client, key((int) (phase % settings.keys())), null, addressOfReplica.apply(random.nextInt(3))));
        }
      }
      String address = addressOfReplica.apply(random.nextInt(3));
      int dice = random.nextInt(100);
      String written = settings.keys() > 2 ? key((int) ((now + random.nextInt(2)) % settings.keys()))
          : key(random.nextInt(settings.keys()));
      if (dice < 4) {
        list(client, address, 1 + random.nextInt(settings.keys() + 1));
        continue;
      }
      if (dice < 50) {
        // Most reads race the writes; the rest watch the keys left alone.
        String read = random.nextInt(5) < 4 ? written : key(random.nextInt(settings.keys()));
        record(read(client, read, address, settings.consistency()));
        continue;
      }
      if (dice < 70) {
        long ttlMillis = settings.maxClockOffsetMillis() > 0 && random.nextInt(5) == 0 ? 2_000 + random.nextInt(4_000) : 0;
        Operation write = write(client, written, "c" + client + "-" + sequence++, address, ttlMillis);
        record(write);
        if (ttlMillis != 0 && write.outcome() != Outcome.FAIL) {
          history.add(Operation.expiry(written, write.value(), ttlMillis, write.invokeNanos(), write.completeNanos(),
              settings.maxClockOffsetMillis())); // not a client's operation: not counted as one
        }
      } else if (dice < 75) {
        record(write(client, written, null, address));
      } else if (dice < 90) {
        increment(client, COUNTER_KEYS.get(random.nextInt(COUNTER_KEYS.size())), sequence++, random);
      } else {
        increment(client, written, sequence++, random);
      }
    }
  }

  /** One increment: read, then a conditional write of the next number, again on a 412 (a few times). */
  private void increment(int client, String key, int sequence, Random random) {
    for (int attempt = 0; attempt < INCREMENT_ATTEMPTS && !stopping.get(); attempt++) {
      Read read = readWithVersion(client, key, addressOfReplica.apply(random.nextInt(3)));
      record(read.operation());
      if (read.operation().outcome() != Outcome.OK) {
        return;
      }
      String value = (counterOf(read.operation().value()) + 1) + "/c" + client + "-" + sequence + "." + attempt;
      Operation cas = conditionalWrite(client, key, value, read, addressOfReplica.apply(random.nextInt(3)));
      record(cas);
      if (cas.kind() != Kind.CAS_REFUSED) {
        return; // done, or failed, or unknown: the next increment is another one
      }
    }
  }

  /** The number a counter value starts with; 0 for absence or any other value. */
  static long counterOf(String value) {
    if (value == null) {
      return 0;
    }
    int slash = value.indexOf('/');
    try {
      return slash < 0 ? 0 : Long.parseLong(value.substring(0, slash));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** A read and the version (ETag) it returned, if any. */
  private record Read(Operation operation, String version) {}

  private Read readWithVersion(int client, String key, String address) {
    String[] version = new String[1];
    Operation read = exchange(client, key, Kind.READ, null,
        request(address, key, settings.consistency()).GET().build(), (status, body) -> switch (status) {
          case 200 -> new Seen(new String(body, StandardCharsets.UTF_8), Outcome.OK);
          case 404 -> new Seen(null, Outcome.OK);
          default -> new Seen(null, Outcome.FAIL);
        }, etag -> version[0] = etag);
    return new Read(read, version[0]);
  }

  /**
   * A PUT of {@code value} if the key still holds what {@code read} saw: 200 applied, 412 refused
   * (recorded as a refusal: the key held something else), otherwise as a write's outcome.
   */
  private Operation conditionalWrite(int client, String key, String value, Read read, String address) {
    String expected = read.operation().value();
    HttpRequest.Builder request = request(address, key, settings.consistency())
        .PUT(HttpRequest.BodyPublishers.ofString(value, StandardCharsets.UTF_8));
    request = expected == null ? request.header("If-None-Match", "*") : request.header("If-Match", read.version());
    Operation sent = exchange(client, key, Kind.CAS, value, request.build(),
        (status, body) -> new Seen(value, writeOutcome(status, body)), etag -> {});
    boolean refused = sent.outcome() == Outcome.OK && sent.value() == null;
    return new Operation(client, key, refused ? Kind.CAS_REFUSED : Kind.CAS, refused ? null : sent.value(),
        sent.invokeNanos(), sent.completeNanos(), sent.outcome(), expected);
  }

  /**
   * On each counter key: the increments that succeeded, those whose outcome is unknown, and the
   * value the last final read saw; a problem when that value is not between the first and their
   * sum (an acknowledged increment lost, or one counted twice).
   */
  public List<String> counterProblems() {
    List<String> problems = new ArrayList<>();
    List<Operation> all = history();
    for (String key : COUNTER_KEYS) {
      long ok = all.stream().filter(op -> op.key().equals(key) && op.kind() == Kind.CAS
          && op.outcome() == Outcome.OK).count();
      long unknown = all.stream().filter(op -> op.key().equals(key) && op.kind() == Kind.CAS
          && op.outcome() == Outcome.UNKNOWN).count();
      java.util.Optional<Operation> last = all.stream().filter(op -> op.key().equals(key)
          && op.client() == Operation.FINAL_READER && op.outcome() == Outcome.OK).reduce((first, second) -> second);
      long value = last.map(op -> counterOf(op.value())).orElse(-1L);
      if (value < ok || value > ok + unknown) {
        problems.add(key + " ends at " + value + " after " + ok + " increments that succeeded and " + unknown
            + " whose outcome is unknown");
      }
    }
    return problems;
  }

  /** The counters' figures, for the summary: key, increments ok and unknown. */
  public String counterSummary() {
    List<Operation> all = history();
    List<String> parts = new ArrayList<>();
    for (String key : COUNTER_KEYS) {
      parts.add(key + ": " + all.stream().filter(op -> op.key().equals(key) && op.kind() == Kind.CAS
          && op.outcome() == Outcome.OK).count() + " increments ok, " + all.stream().filter(op -> op.key().equals(key)
          && op.kind() == Kind.CAS_REFUSED).count() + " refused (412)");
    }
    return String.join("; ", parts);
  }

  /**
   * After healing: a quorum read of every key through each replica, as client
   * {@link Operation#FINAL_READER}, each retried (every attempt recorded) until it succeeds,
   * at most {@code attempts} times. Returns whether every one succeeded: without them a lost
   * write could go unnoticed.
   */
  private final java.util.concurrent.atomic.AtomicLong versionAheadMillisMax =
      new java.util.concurrent.atomic.AtomicLong(Long.MIN_VALUE);

  public boolean finalReads(int attempts) throws InterruptedException {
    boolean all = true;
    List<String> keys = new ArrayList<>();
    for (int key = 0; key < settings.keys(); key++) {
      keys.add(key(key));
    }
    keys.addAll(COUNTER_KEYS);
    for (String key : keys) {
      for (int replica = 0; replica < 3; replica++) {
        Operation read = null;
        for (int attempt = 0; attempt < attempts && (read == null || read.outcome() != Outcome.OK); attempt++) {
          if (read != null) {
            Thread.sleep(200);
          }
          read = read(Operation.FINAL_READER, key, addressOfReplica.apply(replica), "quorum");
          record(read);
        }
        all &= read != null && read.outcome() == Outcome.OK;
      }
    }
    return all;
  }

  private void record(Operation operation) {
    history.add(operation);
    outcomes[operation.outcome().ordinal()].increment();
    if (operation.outcome() != Outcome.OK && operation.client() != Operation.FINAL_READER) {
      pause(); // a replica that is down refuses at once: do not spin on it
    }
  }

  private static void pause() {
    try {
      Thread.sleep(50);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private Operation read(int client, String key, String address, String consistency) {
    return exchange(client, key, Kind.READ, null, request(address, key, consistency).GET().build(),
        (status, body) -> switch (status) {
          case 200 -> new Seen(new String(body, StandardCharsets.UTF_8), Outcome.OK);
          case 404 -> new Seen(null, Outcome.OK);
          default -> new Seen(null, Outcome.FAIL);
        }, etag -> {});
  }

  /**
   * One page of a listing of the workload's keys (prefix {@code k}, the counters are not among
   * them), first page, at most {@code limit}: recorded as a read of each key of the page's range
   * over the listing's interval (absent for a key it left out). A failed listing records nothing.
   */
  private void list(int client, String address, int limit) {
    long invoke = now();
    HttpRequest request = HttpRequest.newBuilder(URI.create(scheme + "://" + address + "/kv?prefix=k&limit=" + limit
        + "&values=true&consistency=" + settings.consistency())).timeout(settings.requestTimeout()).GET().build();
    JsonNode body;
    try {
      HttpResponse<byte[]> answer = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
      if (answer.statusCode() != 200) {
        return;
      }
      body = JSON.readTree(answer.body());
    } catch (IOException e) {
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    long complete = now();
    java.util.Map<String, String> items = new java.util.HashMap<>();
    for (JsonNode item : body.path("items")) {
      items.put(item.path("key").asText(), new String(java.util.Base64.getDecoder().decode(
          item.path("valueBase64").asText()), StandardCharsets.UTF_8));
    }
    String next = body.path("next").isTextual() ? body.path("next").asText() : null;
    for (int index = 0; index < settings.keys(); index++) {
      String key = key(index);
      if (next == null || key.compareTo(next) < 0) {
        record(new Operation(client, key, Kind.READ, items.get(key), invoke, complete, Outcome.OK));
      }
    }
  }

  /** A PUT of {@code value}, or a DELETE when it is null. */
  private Operation write(int client, String key, String value, String address) {
    return write(client, key, value, address, 0L);
  }

  /** A PUT of {@code value} expiring {@code ttlMillis} after it (0: never), or a DELETE when it is null. */
  private Operation write(int client, String key, String value, String address, long ttlMillis) {
    HttpRequest.Builder request = ttlMillis == 0 ? request(address, key, settings.consistency())
        : HttpRequest.newBuilder(URI.create(scheme + "://" + address + "/kv/" + key + "?consistency="
            + settings.consistency() + "&ttl=" + ttlMillis + "ms")).timeout(settings.requestTimeout());
    request = value == null
        ? request.DELETE()
        : request.PUT(HttpRequest.BodyPublishers.ofString(value, StandardCharsets.UTF_8));
    return exchange(client, key, Kind.WRITE, value, request.build(),
        (status, body) -> new Seen(value, writeOutcome(status, body)), etag -> {});
  }

  /**
   * How far ahead of real time (this process's clock, the replicas' too but for their test
   * offsets) the newest version any answer carried was, when it came.
   */
  public long versionAheadMillisMax() {
    return versionAheadMillisMax.get();
  }

  private void noteVersion(java.util.Optional<String> etag) {
    if (etag.isEmpty()) {
      return;
    }
    String tag = etag.get().replace("\"", "");
    int dot = tag.indexOf('.');
    try {
      long hlc = Long.parseLong(dot < 0 ? tag : tag.substring(0, dot));
      long ahead = (hlc >>> 16) - System.currentTimeMillis();
      versionAheadMillisMax.accumulateAndGet(ahead, Math::max);
    } catch (NumberFormatException e) {
      // not a version: nothing to note
    }
  }

  /** What an answer says: the value (read, or written) and the outcome. */
  private record Seen(String value, Outcome outcome) {}

  /** Sends one request and records what came of it, times included. */
  private Operation exchange(int client, String key, Kind kind, String value, HttpRequest request,
      BiFunction<Integer, byte[], Seen> interpret, java.util.function.Consumer<String> etag) {
    long invoke = now();
    Outcome failed;
    try {
      HttpResponse<byte[]> answer = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
      if (answer.statusCode() == 200) {
        noteVersion(answer.headers().firstValue("ETag"));
        answer.headers().firstValue("ETag").ifPresent(etag);
      }
      if (answer.statusCode() == 412) {
        return new Operation(client, key, kind, null, invoke, now(), Outcome.OK); // refused: the caller records it
      }
      Seen seen = interpret.apply(answer.statusCode(), answer.body());
      return new Operation(client, key, kind, seen.value(), invoke, now(), seen.outcome());
    } catch (IOException e) {
      // A refused connection sent nothing: definitely no effect. Any other failure may have had one.
      failed = isConnectionRefused(e) ? Outcome.FAIL : Outcome.UNKNOWN;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      failed = Outcome.UNKNOWN;
    }
    return new Operation(client, key, kind, kind == Kind.READ ? null : value, invoke, now(), failed);
  }

  /**
   * 200: ok. 4xx: refused, nothing applied. 503 that says {@code "outcome":"not-applied"} (the
   * version query failed, or nothing was started: overloaded, clock fenced): no replica was
   * asked to apply anything, so it definitely failed. Any other answer: it may have been applied.
   */
  static Outcome writeOutcome(int status, byte[] body) {
    if (status == 200) {
      return Outcome.OK;
    }
    if (status >= 400 && status < 500) {
      return Outcome.FAIL;
    }
    if (status == 503 && "not-applied".equals(field(body, "outcome"))) {
      return Outcome.FAIL;
    }
    return Outcome.UNKNOWN;
  }

  private static boolean isConnectionRefused(IOException e) {
    for (Throwable cause = e; cause != null; cause = cause.getCause()) {
      if (cause instanceof ConnectException) {
        return true;
      }
    }
    return false;
  }

  private static String field(byte[] body, String name) {
    try {
      JsonNode node = JSON.readTree(body);
      return node == null ? null : node.path(name).asText(null);
    } catch (IOException e) {
      return null;
    }
  }

  private HttpRequest.Builder request(String address, String key, String consistency) {
    return HttpRequest.newBuilder(URI.create(scheme + "://" + address + "/kv/" + key + "?consistency=" + consistency))
        .timeout(settings.requestTimeout());
  }

  private long now() {
    return System.nanoTime() - startNanos;
  }
}
