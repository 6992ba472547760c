package io.quorumkv.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.quorumkv.build.BuildInfo;
import io.quorumkv.replication.HintStatus;
import io.quorumkv.transport.PeerTraffic;
import io.quorumkv.store.ReplicaStats;
import io.quorumkv.store.StoreAdmission;
import io.quorumkv.version.ClockFence;
import io.quorumkv.version.HybridLogicalClock;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.ToLongFunction;

/**
 * One replica's metrics, served by {@code GET /metrics} in the Prometheus text format: client
 * requests by operation, consistency and outcome with their latency, requests in flight,
 * replica-to-replica calls and bytes, and, read from {@link ReplicaStats} and the hint
 * statuses when scraped, read write-backs and repairs, hints pending, storage commits.
 */
public final class ReplicaMetrics implements PeerTraffic {

  /** Seconds: from a fraction of a millisecond up to the request timeouts. */
  private static final double[] LATENCY_BOUNDS = {
      0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5};

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
  private final Counter requests;
  private final Histogram requestSeconds;
  private final Gauge inFlight;
  private final Counter peerCalls;
  private final Counter peerBytes;

  /**
   * @param hints each peer's hint status; may be filled after construction (read when scraped)
   * @param streams whether each peer's replication stream is open; likewise
   */
  public ReplicaMetrics(
      ReplicaStats stats, Map<String, HintStatus> hints, Map<String, BooleanSupplier> streams,
      HybridLogicalClock clock, ClockFence fence, StoreAdmission admission, io.quorumkv.store.StorageAlarm storage) {
    requests = Counter.builder().name("quorumkv_requests_total")
        .help("Client requests by operation (get, put, delete), consistency and outcome "
            + "(ok, not_found, rejected, unavailable, error)")
        .labelNames("op", "consistency", "outcome").register(registry);
    requestSeconds = Histogram.builder().name("quorumkv_request_duration_seconds")
        .help("Client request latency, from the request's arrival to its answer")
        .labelNames("op", "consistency").classicOnly().classicUpperBounds(LATENCY_BOUNDS).register(registry);
    inFlight = Gauge.builder().name("quorumkv_requests_in_flight")
        .help("Client requests being served now").register(registry);
    peerCalls = Counter.builder().name("quorumkv_peer_requests_total")
        .help("Replica-to-replica requests sent, by peer, endpoint and outcome (ok, failed)")
        .labelNames("peer", "endpoint", "outcome").register(registry);
    peerBytes = Counter.builder().name("quorumkv_peer_bytes_total")
        .help("Replica-to-replica body bytes, by peer and direction (sent, received)")
        .labelNames("peer", "direction").register(registry);
    counter("quorumkv_read_write_backs_total", "Reads that wrote the newest record back before answering",
        stats, ReplicaStats::readWriteBacks);
    counter("quorumkv_read_repairs_total", "Stale replicas repaired in the background after a read answered",
        stats, ReplicaStats::readRepairs);
    counter("quorumkv_reads_started_over_total",
        "Reads that saw a replica holding a newer record than the one they chose, and read again",
        stats, ReplicaStats::readsStartedOver);
    counter("quorumkv_tombstones_purged_total", "Settled tombstones purged", stats, ReplicaStats::tombstonesPurged);
    counter("quorumkv_fast_rounds_chosen_total",
        "Conditional writes coordinated here that every replica took in one round trip (the fast round)",
        stats, ReplicaStats::fastRoundsChosen);
    counter("quorumkv_fast_rounds_fell_back_total",
        "Conditional writes coordinated here whose fast round fell back to the classic round",
        stats, ReplicaStats::fastRoundsFellBack);
    counter("quorumkv_stale_messages_ignored_total", "Applies older than max-message-age, not applied",
        stats, ReplicaStats::staleMessagesIgnored);
    counter("quorumkv_digest_conflicts_total", "Two values seen at one version (corruption alarm)",
        stats, ReplicaStats::digestConflicts);
    counter("quorumkv_corrupt_records_total", "Stored records found undecodable (key quarantined until repaired)",
        stats, ReplicaStats::corruptRecords);
    counter("quorumkv_storage_commits_total", "Storage batch writes (each synced to disk under fsync = always)",
        stats, ReplicaStats::commits);
    Histogram commitSeconds = Histogram.builder().name("quorumkv_storage_commit_duration_seconds")
        .help("Duration of each storage batch write, sync included (the fsync latency under fsync = always)")
        .classicOnly().classicUpperBounds(LATENCY_BOUNDS).register(registry);
    stats.onCommit(nanos -> commitSeconds.observe(nanos / 1e9));
    Info.builder().name("quorumkv_build_info")
        .help("The build this replica runs: release version and commit (value always 1)")
        .labelNames("version", "commit").register(registry)
        .addLabelValues(BuildInfo.current().version(), BuildInfo.current().commit());
    // The JVM's own: heap and non-heap memory, GC pauses, threads, classes, buffer pools, and
    // the process's CPU time, open file descriptors and resident memory.
    JvmMetrics.builder().register(registry);
    CounterWithCallback.builder().name("quorumkv_storage_commit_seconds_total")
        .help("Time spent in storage batch writes, sync included; divide by quorumkv_storage_commits_total")
        .callback(callback -> callback.call(stats.commitNanos() / 1e9)).register(registry);
    GaugeWithCallback.builder().name("quorumkv_hints_pending")
        .help("Hints waiting to be handed off, by peer").labelNames("peer")
        .callback(callback -> hints.forEach((peer, status) -> callback.call(status.pending(), peer)))
        .register(registry);
    CounterWithCallback.builder().name("quorumkv_clock_refusals_total")
        .help("Clock readings and record versions refused as further ahead than max-clock-offset, by source"
            + " (a peer, inbound calls, or the store)").labelNames("source")
        .callback(callback -> clock.refusals().forEach((source, count) -> callback.call(count, source)))
        .register(registry);
    CounterWithCallback.builder().name("quorumkv_clock_mark_failures_total")
        .help("Messages refused because the clock's next durable mark could not be recorded")
        .callback(callback -> callback.call(clock.markFailures())).register(registry);
    GaugeWithCallback.builder().name("quorumkv_store_queue_requests")
        .help("Requests waiting for the store (bounded by limits.store-queue-max)")
        .callback(callback -> callback.call(admission.queued())).register(registry);
    GaugeWithCallback.builder().name("quorumkv_store_queue_bytes")
        .help("Bytes of the requests waiting for the store (bounded by limits.store-queue-bytes-max)")
        .callback(callback -> callback.call(admission.queuedBytes())).register(registry);
    CounterWithCallback.builder().name("quorumkv_store_queue_refusals_total")
        .help("Requests answered unavailable because the store's queue was full")
        .callback(callback -> callback.call(admission.refusals())).register(registry);
    GaugeWithCallback.builder().name("quorumkv_storage_writes_refused")
        .help("Whether this replica's storage refuses writes: 0 no, 1 values (the data directory is over"
            + " storage.bytes-max; deletes are taken), 2 every write (the disk is full)")
        .callback(callback -> callback.call(storage.isDiskFull() ? 2 : storage.refusesWrites() ? 1 : 0))
        .register(registry);
    CounterWithCallback.builder().name("quorumkv_storage_write_refusals_total")
        .help("Writes refused for want of space (disk full or storage.bytes-max), client and peer writes")
        .callback(callback -> callback.call(storage.refusals())).register(registry);
    GaugeWithCallback.builder().name("quorumkv_storage_bytes")
        .help("Bytes the data directory takes on disk (measured every second)")
        .callback(callback -> callback.call(storage.bytesOnDisk())).register(registry);
    GaugeWithCallback.builder().name("quorumkv_clock_fenced")
        .help("1 while this replica's clock is off from most peers' and it coordinates nothing")
        .callback(callback -> callback.call(fence.reason().isPresent() ? 1 : 0)).register(registry);
    GaugeWithCallback.builder().name("quorumkv_peer_clock_offset_seconds")
        .help("How far each peer's wall clock is measured ahead of this replica's (negative: behind)")
        .labelNames("peer")
        .callback(callback -> fence.offsetsMillis().forEach((peer, millis) -> callback.call(millis / 1e3, peer)))
        .register(registry);
    GaugeWithCallback.builder().name("quorumkv_peer_stream_open")
        .help("1 while the replication stream to the peer is open, 0 while its calls go over HTTP").labelNames("peer")
        .callback(callback -> streams.forEach((peer, open) -> callback.call(open.getAsBoolean() ? 1 : 0, peer)))
        .register(registry);
  }

  private void counter(String name, String help, ReplicaStats stats, ToLongFunction<ReplicaStats> value) {
    CounterWithCallback.builder().name(name).help(help)
        .callback(callback -> callback.call(value.applyAsLong(stats))).register(registry);
  }

  /** {@code quorumkv_access_refused_total{reason}}: calls refused by the network-access rules, by reason only. */
  public void countRefusals(io.quorumkv.security.AccessAudit audit) {
    CounterWithCallback.builder().name("quorumkv_access_refused_total")
        .help("Internal and admin calls refused by the network-access rules, by reason (internal-not-a-peer,"
            + " internal-not-a-peer-certificate, admin-not-loopback, no-remote-address, forwarded-by-a-proxy)")
        .labelNames("reason")
        .callback(callback -> {
          for (io.quorumkv.security.NetworkAccess.Refusal reason : io.quorumkv.security.NetworkAccess.Refusal.values()) {
            callback.call(audit.count(reason), io.quorumkv.labels.Labels.of(reason));
          }
        }).register(registry);
    CounterWithCallback.builder().name("quorumkv_auth_refused_total")
        .help("Client requests refused for their token, by reason (missing-token, unknown-token, role-too-low)")
        .labelNames("reason")
        .callback(callback -> {
          for (io.quorumkv.security.AccessAudit.AuthRefusal reason : io.quorumkv.security.AccessAudit.AuthRefusal.values()) {
            callback.call(audit.count(reason), io.quorumkv.labels.Labels.of(reason));
          }
        }).register(registry);
    CounterWithCallback.builder().name("quorumkv_tls_handshakes_failed_total")
        .help("Connections closed because their TLS handshake failed (plain HTTP on the TLS port, a client"
            + " certificate no configured CA signed, or one not valid now)")
        .callback(callback -> callback.call(audit.tlsHandshakeFailures())).register(registry);
  }

  /**
   * {@code quorumkv_tls_certificate_expiry_timestamp_seconds}: when this replica's own certificate
   * expires (alert on it well before: an expired certificate locks the replica out of its peers).
   */
  public void certificateExpiry(java.security.cert.X509Certificate certificate) {
    GaugeWithCallback.builder().name("quorumkv_tls_certificate_expiry_timestamp_seconds")
        .help("When this replica's TLS certificate (TLS_CERT_FILE) expires, in seconds since the epoch")
        .callback(callback -> callback.call(certificate.getNotAfter().getTime() / 1000.0))
        .register(registry);
  }

  /** The label of a consistency parameter that names no level (the request got a 400). */
  public static final String INVALID = "invalid";
  private static final java.util.Set<String> OPS = java.util.Set.of("get", "put", "delete");
  /** The operation label of a listing ({@code GET /kv?prefix=...}). */
  public static final String LIST_OP = "list";

  /** {@code get}, {@code put}, {@code delete}, or {@code other} for any other method. */
  public static String opLabel(String method) {
    String op = method.toLowerCase(java.util.Locale.ROOT);
    return OPS.contains(op) ? op : "other";
  }

  public void requestStarted() {
    inFlight.inc();
  }

  /** A client request was answered with {@code status} after {@code nanos}. */
  public void requestAnswered(String op, String consistency, int status, long nanos) {
    inFlight.dec();
    requests.labelValues(op, consistency, outcome(status)).inc();
    requestSeconds.labelValues(op, consistency).observe(nanos / 1e9);
  }

  static String outcome(int status) {
    if (status == 200) {
      return "ok";
    }
    if (status == 404) {
      return "not_found";
    }
    if (status >= 400 && status < 500) {
      return "rejected";
    }
    return status == 503 ? "unavailable" : "error";
  }

  @Override
  public void called(String peer, String endpoint, boolean succeeded, long bytesSent, long bytesReceived) {
    peerCalls.labelValues(peer, endpoint, succeeded ? "ok" : "failed").inc();
    peerBytes.labelValues(peer, "sent").inc(bytesSent);
    if (bytesReceived > 0) {
      peerBytes.labelValues(peer, "received").inc(bytesReceived);
    }
  }

  public String contentType() {
    return writer.getContentType();
  }

  /** The current values in the Prometheus text format. */
  public byte[] scrape() {
    ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
    try {
      writer.write(out, registry.scrape());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
