package io.quorumkv.client;

import akka.actor.typed.ActorSystem;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * {@code kv bench}: a load generator for sizing a cluster. {@code concurrency} workers each
 * keep one request in flight, spread over all nodes, for a duration or a number of
 * operations; latencies go into HdrHistograms per operation. Bounded in time and count.
 *
 * <p>Without {@code --rate} the loop is closed: each worker sends its next request when the
 * last one is answered. With {@code --rate} every worker follows a fixed schedule, and each
 * latency is measured from when its request <em>should</em> have been sent, so a stall shows
 * up in the latencies of every request it held back (no coordinated omission, as in wrk2).
 */
public final class Bench {

  /** Everything a run is configured with. */
  public record Options(
      List<NodeAddress> nodes, int concurrency, Duration duration, long ops, Mix mix,
      int valueBytes, int keys, KeyDistribution distribution, double rate, Consistency consistency,
      boolean prefill, Duration warmup, long seed, Path json, Duration timeout, Credentials credentials) {

    /** The same options, writing the results as JSON to {@code file}. */
    public Options withJson(Path file) {
      return new Options(nodes, concurrency, duration, ops, mix, valueBytes, keys, distribution, rate,
          consistency, prefill, warmup, seed, file, timeout, credentials);
    }

    public int writePercent() {
      return mix.write();
    }
  }

  /**
   * The shares of the operations, in percent, adding up to 100. A {@code cas} is a read, then a
   * conditional write of the version read ({@code If-Match}, or {@code If-None-Match: *} when the
   * key is absent): the read is counted as a read, the conditional write alone as {@code cas}. A
   * {@code create} is a conditional write alone: {@code If-None-Match: *} of a key with a fresh
   * random name (outside the {@code --keys} range), so no read is needed and none is in the loop.
   */
  public record Mix(int read, int write, int cas, int create) {
    public Mix {
      if (read < 0 || write < 0 || cas < 0 || create < 0 || read + write + cas + create != 100) {
        throw new IllegalArgumentException("--mix shares must add up to 100, not " + (read + write + cas + create));
      }
    }

    public Mix(int read, int write, int cas) {
      this(read, write, cas, 0);
    }
  }

  private enum Operation { READ, WRITE, CAS, CREATE }

  /** Attempts per prefill key when the cluster answers 503, and the pause between them. */
  private static final int PREFILL_ATTEMPTS = 10;
  private static final long PREFILL_RETRY_PAUSE_MILLIS = 200;

  private final Options options;
  private final AtomicLong prefillRetries = new AtomicLong();
  private final PrintStream out;
  private final List<KvClient> clients = new ArrayList<>();
  private final Map<Operation, Recorder> recorders = new ConcurrentHashMap<>();
  private final Map<Operation, Histogram> totals = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
  /** Conditional writes answered 412 (another writer got there first): contention, not errors. */
  private final LongAdder refused = new LongAdder();
  private final AtomicLong started = new AtomicLong();
  private final byte[] value;
  private volatile boolean measuring;

  public Bench(ActorSystem<?> system, Options options, PrintStream out) {
    this.options = options;
    this.out = out;
    for (NodeAddress node : options.nodes()) {
      clients.add(new KvClient(system, node, options.timeout(), options.credentials()));
    }
    for (Operation operation : Operation.values()) {
      recorders.put(operation, new Recorder(3));
      totals.put(operation, new Histogram(3));
    }
    value = new byte[options.valueBytes()];
    new Random(options.seed()).nextBytes(value);
  }

  /** Runs the benchmark; returns the number of requests that failed unexpectedly. */
  public long run() throws IOException {
    out.printf(Locale.ROOT, "bench: %d nodes, concurrency %d, %s, %s, read=%d%% write=%d%% cas=%d%% create=%d%%, %d-byte values,"
            + " %d keys (%s), consistency %s, seed %d%n",
        options.nodes().size(), options.concurrency(),
        options.ops() > 0 ? options.ops() + " ops" : options.duration().toMillis() / 1000.0 + " s",
        options.rate() > 0 ? "target " + options.rate() + " ops/s" : "closed loop",
        options.mix().read(), options.mix().write(), options.mix().cas(), options.mix().create(), options.valueBytes(), options.keys(), options.distribution().label(),
        options.consistency().label(), options.seed());
    if (options.prefill()) {
      prefill();
    }
    if (!options.warmup().isZero()) {
      runPhase(options.warmup(), 0, false);
    }
    long runStarted = System.nanoTime();
    runPhase(options.duration(), options.ops(), true);
    double seconds = (System.nanoTime() - runStarted) / 1e9;
    return report(seconds);
  }

  private void prefill() {
    long began = System.nanoTime();
    AtomicLong next = new AtomicLong();
    List<CompletableFuture<Void>> workers = new ArrayList<>();
    for (int i = 0; i < options.concurrency(); i++) {
      workers.add(prefillWorker(next).toCompletableFuture());
    }
    CompletableFuture.allOf(workers.toArray(new CompletableFuture[0])).join();
    out.printf(Locale.ROOT, "prefilled %d keys in %.1f s (%d writes retried after a 503)%n", options.keys(),
        (System.nanoTime() - began) / 1e9, prefillRetries.get());
  }

  private CompletionStage<Void> prefillWorker(AtomicLong next) {
    long key = next.getAndIncrement();
    if (key >= options.keys()) {
      return CompletableFuture.completedFuture(null);
    }
    return prefillKey(key, PREFILL_ATTEMPTS).thenCompose(ignored -> prefillWorker(next));
  }

  /**
   * Writes one prefill key; an overloaded cluster's 503 (e.g. while storage compacts a large
   * prefill) is retried after a pause, at most {@code attempts} times in all: writing the same
   * value again is harmless. Any other failure, or the last 503, fails the prefill.
   */
  private CompletionStage<Void> prefillKey(long key, int attempts) {
    KvClient client = clients.get((int) ((key + attempts) % clients.size()));
    return client.put(keyName(key), value, options.consistency())
        .handle((written, failure) -> {
          if (failure == null) {
            return CompletableFuture.<Void>completedFuture(null);
          }
          Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
          if (cause instanceof KvException.Unavailable && attempts > 1) {
            prefillRetries.incrementAndGet();
            return CompletableFuture.supplyAsync(() -> null,
                    CompletableFuture.delayedExecutor(PREFILL_RETRY_PAUSE_MILLIS, TimeUnit.MILLISECONDS))
                .thenCompose(ignored -> prefillKey(key, attempts - 1));
          }
          throw new CompletionException("prefill failed: " + cause.getMessage(), cause);
        })
        .thenCompose(retried -> retried);
  }

  private void runPhase(Duration duration, long ops, boolean measure) {
    measuring = measure;
    started.set(0);
    long deadline = System.nanoTime() + duration.toNanos();
    long limit = ops > 0 ? ops : Long.MAX_VALUE;
    List<CompletableFuture<Void>> workers = new ArrayList<>();
    // With a target rate each worker sends every `interval`, the workers' schedules staggered.
    long interval = options.rate() > 0 ? (long) (options.concurrency() * 1e9 / options.rate()) : 0;
    long phaseStart = System.nanoTime();
    // Every worker of both phases draws its own sequence. (Seeds of seed * 31 + i + phase gave
    // the measured worker i the warm-up's worker i + 1's sequence: its creates all met keys the
    // warm-up had created, and answered 412.)
    java.util.SplittableRandom seeds = new java.util.SplittableRandom(options.seed() * 2 + (measure ? 1 : 0));
    for (int i = 0; i < options.concurrency(); i++) {
      Random random = new Random(seeds.nextLong());
      Schedule schedule = new Schedule(phaseStart + interval * i / options.concurrency(), interval);
      workers.add(worker(random, deadline, limit, schedule).toCompletableFuture());
    }
    CompletableFuture<Void> all = CompletableFuture.allOf(workers.toArray(new CompletableFuture[0]));
    int second = 0;
    while (!all.isDone()) {
      try {
        all.get(1, TimeUnit.SECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        if (measure) {
          progress(++second);
        }
      } catch (Exception e) {
        throw new IllegalStateException("a bench worker failed", e);
      }
    }
  }

  /** A worker's send times: {@code next} is when its next request is due; interval 0: closed loop. */
  private static final class Schedule {
    private long next;
    private final long interval;

    Schedule(long first, long interval) {
      this.next = first;
      this.interval = interval;
    }
  }

  private CompletionStage<Void> worker(Random random, long deadline, long limit, Schedule schedule) {
    long now = System.nanoTime();
    if (schedule.interval > 0 && schedule.next > now) {
      if (schedule.next >= deadline) {
        return CompletableFuture.completedFuture(null);
      }
      Executor later = CompletableFuture.delayedExecutor(schedule.next - now, TimeUnit.NANOSECONDS);
      return CompletableFuture.runAsync(() -> { }, later).thenCompose(ignored -> worker(random, deadline, limit, schedule));
    }
    if (now >= deadline || started.incrementAndGet() > limit) {
      return CompletableFuture.completedFuture(null);
    }
    int dice = random.nextInt(100);
    Mix mix = options.mix();
    Operation operation = dice < mix.write() ? Operation.WRITE
        : dice < mix.write() + mix.cas() ? Operation.CAS
        : dice < mix.write() + mix.cas() + mix.create() ? Operation.CREATE : Operation.READ;
    String key = keyName(options.distribution().next(random));
    KvClient client = clients.get(random.nextInt(clients.size()));
    // The latency counts from when the request was due, not from when it could be sent.
    long began = schedule.interval > 0 ? schedule.next : now;
    schedule.next += schedule.interval;
    CompletionStage<?> request = switch (operation) {
      case WRITE -> measured(Operation.WRITE, began, client.put(key, value, options.consistency()));
      case READ -> measured(Operation.READ, began, client.get(key, options.consistency()));
      case CREATE -> measured(Operation.CREATE, began,
          client.putIfAbsent("new-" + Long.toHexString(random.nextLong()), value, options.consistency()));
      case CAS -> measured(Operation.READ, began, client.get(key, options.consistency())).thenCompose(read -> {
        if (read == null) {
          return CompletableFuture.completedFuture(null); // the read failed: counted there
        }
        long sent = System.nanoTime();
        return measured(Operation.CAS, sent, read.isPresent()
            ? client.compareAndSet(key, value, read.get().version(), options.consistency())
            : client.putIfAbsent(key, value, options.consistency()));
      });
    };
    return request.thenCompose(ignored -> worker(random, deadline, limit, schedule));
  }

  /** Records the latency (or the failure) of one request; completes with its result, or null when it failed. */
  private <T> CompletionStage<T> measured(Operation operation, long began, CompletionStage<T> request) {
    return request.handle((result, failure) -> {
      long micros = (System.nanoTime() - began) / 1_000;
      if (measuring) {
        if (failure == null) {
          recorders.get(operation).recordValue(Math.max(1, micros));
        } else if (unwrap(failure) instanceof KvException.PreconditionFailed) {
          refused.increment();
        } else {
          errors.computeIfAbsent(operation.name().toLowerCase(Locale.ROOT) + " " + kindOf(failure),
              kind -> new LongAdder()).increment();
        }
      }
      return failure == null ? result : null;
    });
  }

  private static Throwable unwrap(Throwable failure) {
    return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
  }

  private static String kindOf(Throwable failure) {
    Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    if (cause instanceof KvException.Unavailable unavailable) {
      // A 503 that changed nothing (overloaded, contention, no quorum before anything was sent)
      // and one that may yet take effect are different failures.
      return "Unavailable (" + (unavailable.isIndeterminate() ? "indeterminate" : "not-applied") + ")";
    }
    return cause.getClass().getSimpleName();
  }

  private void progress(int second) {
    long count = 0;
    Histogram interval = new Histogram(3);
    for (Operation operation : Operation.values()) {
      Histogram snapshot = recorders.get(operation).getIntervalHistogram();
      totals.get(operation).add(snapshot);
      interval.add(snapshot);
      count += snapshot.getTotalCount();
    }
    long errorCount = errors.values().stream().mapToLong(LongAdder::sum).sum();
    out.printf(Locale.ROOT, "[%3ds] %8d ops/s  p99 %7.2f ms  errors %d%n",
        second, count, interval.getValueAtPercentile(99) / 1000.0, errorCount);
  }

  private long report(double seconds) throws IOException {
    for (Operation operation : Operation.values()) {
      totals.get(operation).add(recorders.get(operation).getIntervalHistogram());
    }
    out.printf(Locale.ROOT, "%-6s %9s %10s %8s %8s %8s %8s %8s %7s%n",
        "op", "count", "ops/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "errors");
    Map<String, Object> json = new LinkedHashMap<>();
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put("concurrency", options.concurrency());
    settings.put("targetRate", options.rate() > 0 ? options.rate() : null);
    settings.put("writePercent", options.mix().write());
    settings.put("casPercent", options.mix().cas());
    settings.put("createPercent", options.mix().create());
    settings.put("valueBytes", options.valueBytes());
    settings.put("keys", options.keys());
    settings.put("distribution", options.distribution().label());
    settings.put("consistency", options.consistency().label());
    settings.put("seconds", seconds);
    settings.put("seed", options.seed());
    json.put("options", settings);
    long failed = 0;
    for (Operation operation : Operation.values()) {
      Histogram histogram = totals.get(operation);
      String name = operation.name().toLowerCase(Locale.ROOT);
      long operationErrors = errors.entrySet().stream().filter(e -> e.getKey().startsWith(name + " "))
          .mapToLong(e -> e.getValue().sum()).sum();
      failed += operationErrors;
      if (histogram.getTotalCount() == 0 && operationErrors == 0) {
        continue;
      }
      double rate = histogram.getTotalCount() / seconds;
      out.printf(Locale.ROOT, "%-6s %9d %10.1f %8.2f %8.2f %8.2f %8.2f %8.2f %7d%n", name, histogram.getTotalCount(),
          rate, ms(histogram, 50), ms(histogram, 90), ms(histogram, 99), ms(histogram, 99.9),
          histogram.getMaxValue() / 1000.0, operationErrors);
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("count", histogram.getTotalCount());
      row.put("opsPerSecond", rate);
      row.put("p50Ms", ms(histogram, 50));
      row.put("p90Ms", ms(histogram, 90));
      row.put("p99Ms", ms(histogram, 99));
      row.put("p999Ms", ms(histogram, 99.9));
      row.put("maxMs", histogram.getMaxValue() / 1000.0);
      row.put("errors", operationErrors);
      json.put(name, row);
    }
    if (options.mix().cas() + options.mix().create() > 0) {
      out.printf(Locale.ROOT, "cas refused (412, another writer was first): %d (%.1f/s)%n", refused.sum(),
          refused.sum() / seconds);
      json.put("casRefused", refused.sum());
    }
    errors.forEach((kind, count) -> out.println("errors: " + kind + " " + count.sum()));
    if (options.json() != null) {
      Files.write(options.json(), new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(json));
    }
    return failed;
  }

  private static double ms(Histogram histogram, double percentile) {
    return histogram.getValueAtPercentile(percentile) / 1000.0;
  }

  private static String keyName(long index) {
    return String.format(Locale.ROOT, "key%05d", index);
  }

  public static final String USAGE = String.join("\n",
      "usage: quorumkv-client bench [--nodes H:P,H:P,...] [--concurrency 16] [--duration 10s | --ops N]",
      "         [--mix read=90,write=10,cas=0,create=0] [--value-bytes 100] [--keys 10000] [--distribution uniform|zipfian]",
      "         [--rate OPS_PER_S] [--consistency quorum] [--prefill] [--warmup 2s] [--seed N] [--timeout 5s]",
      "         [--json FILE] [--token TOKEN] [--cacert FILE] [--cert FILE --key FILE]",
      "  nodes default to PEER_PEER0..2_HOST/PORT; requests are spread over all of them;",
      "  https:// nodes or --cacert: HTTPS (environment: QUORUMKV_TOKEN, QUORUMKV_CACERT, QUORUMKV_CERT, QUORUMKV_KEY);",
      "  --rate: an open loop at that total rate, latencies measured from when each request was due");

  /** Parses the bench options (the words after {@code bench}). */
  public static Options parse(List<String> args, Map<String, String> environment) {
    List<NodeAddress> nodes = new ArrayList<>();
    List<String> nodeTexts = new ArrayList<>();
    Map<String, String> tlsFiles = new java.util.HashMap<>();
    for (String variable : ClientTls.VARIABLES) {
      tlsFiles.put(variable, environment.getOrDefault(variable, ""));
    }
    int concurrency = 16;
    Duration duration = Duration.ofSeconds(10);
    long ops = 0;
    Mix mix = new Mix(90, 10, 0);
    int valueBytes = 100;
    int keys = 10_000;
    String distribution = "uniform";
    double rate = 0;
    Consistency consistency = Consistency.QUORUM;
    boolean prefill = false;
    Duration warmup = Duration.ZERO;
    long seed = System.nanoTime();
    Path json = null;
    Duration timeout = Duration.ofSeconds(5);
    String token = environment.getOrDefault("QUORUMKV_TOKEN", "");
    for (int i = 0; i < args.size(); i++) {
      String option = args.get(i);
      if (option.equals("--prefill")) {
        prefill = true;
        continue;
      }
      if (i + 1 >= args.size()) {
        throw new IllegalArgumentException(option + " needs a value");
      }
      String text = args.get(++i);
      switch (option) {
        case "--nodes" -> {
          for (String node : text.split(",")) {
            nodes.add(NodeAddress.parse(node.trim()));
            nodeTexts.add(node.trim());
          }
        }
        case "--concurrency" -> concurrency = positive(option, text, 4096);
        case "--duration" -> duration = Durations.parse(text);
        case "--ops" -> ops = positive(option, text, Integer.MAX_VALUE);
        case "--mix" -> mix = parseMix(text);
        case "--value-bytes" -> valueBytes = positive(option, text, 16 * 1024 * 1024);
        case "--keys" -> keys = positive(option, text, Integer.MAX_VALUE);
        case "--consistency" -> consistency = Consistency.parse(text);
        case "--warmup" -> warmup = Durations.parse(text);
        case "--seed" -> seed = Long.parseLong(text);
        case "--json" -> json = Path.of(text);
        case "--timeout" -> timeout = Durations.parse(text);
        case "--token" -> token = text;
        case "--cacert" -> tlsFiles.put("QUORUMKV_CACERT", text);
        case "--cert" -> tlsFiles.put("QUORUMKV_CERT", text);
        case "--key" -> tlsFiles.put("QUORUMKV_KEY", text);
        case "--distribution" -> distribution = text;
        case "--rate" -> rate = positive(option, text, 10_000_000);
        default -> throw new IllegalArgumentException("unknown bench option " + option);
      }
    }
    if (nodes.isEmpty()) {
      for (String name : List.of("peer0", "peer1", "peer2")) {
        nodes.add(NodeAddress.fromEnvironment(environment, name));
      }
    }
    return new Options(List.copyOf(nodes), concurrency, duration, ops, mix, valueBytes, keys,
        KeyDistribution.parse(distribution, keys), rate, consistency, prefill, warmup, seed, json, timeout,
        Credentials.forEndpoints(nodeTexts, java.util.Optional.of(token), tlsFiles));
  }

  /** {@code read=90,write=10[,cas=0][,create=0]} (percentages adding up to 100). */
  static Mix parseMix(String text) {
    int read = 0;
    int write = 0;
    int cas = 0;
    int create = 0;
    for (String part : text.split(",")) {
      String[] pair = part.trim().split("=");
      if (pair.length != 2) {
        throw new IllegalArgumentException("--mix is like read=90,write=10,cas=0, not '" + text + "'");
      }
      int share = positiveOrZero("--mix", pair[1]);
      switch (pair[0]) {
        case "read" -> read = share;
        case "write" -> write = share;
        case "cas" -> cas = share;
        case "create" -> create = share;
        default -> throw new IllegalArgumentException("--mix knows read, write, cas and create, not '" + pair[0] + "'");
      }
    }
    return new Mix(read, write, cas, create);
  }

  private static int positive(String option, String text, int max) {
    int number = positiveOrZero(option, text);
    if (number < 1 || number > max) {
      throw new IllegalArgumentException(option + " must be 1.." + max + ", not " + text);
    }
    return number;
  }

  private static int positiveOrZero(String option, String text) {
    try {
      int number = Integer.parseInt(text.trim());
      if (number < 0) {
        throw new IllegalArgumentException(option + " must not be negative: " + text);
      }
      return number;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + " needs a number, not '" + text + "'", e);
    }
  }
}
