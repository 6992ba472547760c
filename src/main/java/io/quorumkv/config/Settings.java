package io.quorumkv.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import io.quorumkv.faults.DeliberateBug;
import io.quorumkv.labels.Labels;
import io.quorumkv.config.FsyncMode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Every setting of a replica, read once at startup from {@code application.conf} (with its
 * environment overrides) and the {@code PEER_*} variables, and validated: a bad value stops
 * the replica with a one-line reason ({@link IllegalArgumentException}).
 */
public record Settings(
    String nodeId,
    String dataDir,
    String nativeLibraryDir,
    String snapshotDir,
    String listenHost,
    int port,
    Connections connections,
    List<PeerAddress> peers,
    boolean allowSingleReplica,
    Duration writeTimeout,
    Duration readTimeout,
    Duration peerRequestTimeout,
    int peerRequestsInFlightMax,
    Fanout fanout,
    boolean fastRound,
    boolean peerStream,
    Duration peerPingInterval,
    String clusterSecret,
    List<io.quorumkv.security.Cidr> internalAllow,
    String tokensFile,
    boolean metricsAuth,
    Tls tls,
    boolean requireAuth,
    int keyBytesMax,
    int valueBytesMax,
    int requestsInFlightMax,
    int storeQueueMax,
    long storeQueueBytesMax,
    String storageEngine,
    long storageBytesMax,
    FsyncMode fsync,
    Duration maxMessageAge,
    Duration maxClockOffset,
    AntiEntropy antiEntropy,
    Hints hints,
    Tombstones tombstones,
    Duration clockOffset,
    Set<DeliberateBug> deliberateBugs) {

  /**
   * Connection limits of the listener (see {@code http.GuardedServer}): in all, per source
   * address, how many are kept for the peers' addresses, and the deadline for a request head.
   */
  public record Connections(int max, int perAddressMax, int reservedForPeers, Duration headTimeout) {}

  /**
   * TLS files (docs/operating.md, "TLS"), empty when not set: the replica's certificate chain and
   * key (HTTPS on its port), the CA file (what peers' and clients' certificates must chain to),
   * and the CA that signs replicas' certificates only.
   */
  public record Tls(String certFile, String keyFile, String caFile, String peerCaFile) {
    public boolean enabled() {
      return !certFile.isEmpty();
    }
  }

  /** Tombstone settlement and purging. */
  public record Tombstones(Duration sweepInterval, int sweepMax, Duration skewMargin, Duration purgeCheckInterval) {}

  /** How long a settled tombstone must wait before it is purged: no hint or message can outlive it. */
  public Duration tombstoneGrace() {
    return hints.expiry().plus(maxMessageAge).plus(tombstones.skewMargin());
  }

  /** Hinted handoff: how long hints live, how many a peer may have, how fast they replay. */
  public record Hints(
      boolean enabled, Duration expiry, int countMaxPerTarget, long bytesMaxPerTarget, Duration replayInterval,
      int replayPerTick, int inFlightMax) {}

  /** Anti-entropy: how often a round runs, and how much one round may move. */
  public record AntiEntropy(
      boolean enabled, Duration interval, int bucketsPerRound, int keysPerRound, int inFlightMax, Duration roundTimeout) {}


  public Settings {
    check(!nodeId.isBlank(), "quorumkv.node-id (NODE_ID) must not be empty");
    check(port >= 1 && port <= 65535, "quorumkv.http.port (PORT) must be 1..65535, not " + port);
    check(connections.max() >= 2 && connections.perAddressMax() >= 1 && connections.reservedForPeers() >= 0
        && connections.reservedForPeers() < connections.max(),
        "quorumkv.http.connections-max, connections-per-address-max must be positive and connections-reserved-for-peers"
            + " below connections-max");
    check(isPositive(connections.headTimeout()), "quorumkv.http.head-timeout must be positive");
    check(isPositive(writeTimeout), "quorumkv.write-timeout must be positive");
    check(isPositive(readTimeout), "quorumkv.read-timeout must be positive");
    check(isPositive(peerRequestTimeout), "quorumkv.peer-request-timeout must be positive");
    // A peer call that may outlive its request would answer nobody: a dead peer must fail fast
    // enough for the request to ask another.
    check(peerRequestTimeout.compareTo(readTimeout) < 0 && peerRequestTimeout.compareTo(writeTimeout) < 0,
        "quorumkv.peer-request-timeout (" + peerRequestTimeout + ") must be shorter than quorumkv.read-timeout ("
            + readTimeout + ") and quorumkv.write-timeout (" + writeTimeout + ")");
    // A hedge that waits longer than a peer call's deadline never fires before that call fails.
    check(!fanout.quorumFirst() || fanout.hedgeDelay().compareTo(peerRequestTimeout) < 0,
        "quorumkv.fanout.hedge-delay (" + fanout.hedgeDelay() + ") must be shorter than quorumkv.peer-request-timeout ("
            + peerRequestTimeout + ")");
    check(isPositive(peerPingInterval), "quorumkv.peer-ping-interval must be positive");
    check(peerRequestsInFlightMax >= 1, "quorumkv.peer-requests-in-flight-max must be at least 1");
    check(keyBytesMax >= 1, "quorumkv.limits.key-bytes-max must be at least 1");
    check(valueBytesMax >= 0, "quorumkv.limits.value-bytes-max must not be negative");
    check(requestsInFlightMax >= 1, "quorumkv.limits.requests-in-flight-max must be at least 1");
    check(storeQueueMax >= 1, "quorumkv.limits.store-queue-max must be at least 1");
    check(storageBytesMax == 0 || storageBytesMax >= 64L << 20,
        "quorumkv.storage.bytes-max (STORAGE_BYTES_MAX) must be 0 (no quota) or at least 64MiB");
    check(storeQueueBytesMax >= 2L * valueBytesMax + 65_536,
        "quorumkv.limits.store-queue-bytes-max must hold at least two of the largest values");
    check(storageEngine.equals(ENGINE_ROCKSDB) || storageEngine.equals(ENGINE_MEMORY),
        "quorumkv.storage.engine (STORAGE_ENGINE) must be rocksdb or memory, not '" + storageEngine + "'");
    check(isPositive(antiEntropy.interval()), "quorumkv.anti-entropy.interval must be positive");
    check(isPositive(antiEntropy.roundTimeout()), "quorumkv.anti-entropy.round-timeout must be positive");
    check(antiEntropy.bucketsPerRound() >= 1 && antiEntropy.bucketsPerRound() <= 1024,
        "quorumkv.anti-entropy.buckets-per-round must be 1..1024");
    check(antiEntropy.keysPerRound() >= 1, "quorumkv.anti-entropy.keys-per-round must be at least 1");
    check(antiEntropy.inFlightMax() >= 1, "quorumkv.anti-entropy.in-flight-max must be at least 1");
    check(isPositive(maxMessageAge), "quorumkv.max-message-age must be positive");
    // At least 1 s: the durable clock mark is synced once per tenth of the offset.
    check(maxClockOffset.compareTo(Duration.ofSeconds(1)) >= 0 && maxClockOffset.compareTo(Duration.ofHours(1)) <= 0,
        "quorumkv.max-clock-offset (MAX_CLOCK_OFFSET) must be between 1s and 1h, not " + maxClockOffset);
    // Message age is measured against the sender's clock: readings may run up to the offset
    // plus a mark step ahead on either side (docs/clock-discipline.md).
    check(maxMessageAge.compareTo(maxClockOffset.multipliedBy(3)) >= 0,
        "quorumkv.max-message-age (" + maxMessageAge + ") must be at least three times quorumkv.max-clock-offset ("
            + maxClockOffset + ")");
    check(isPositive(tombstones.sweepInterval()) && isPositive(tombstones.purgeCheckInterval())
        && tombstones.sweepMax() >= 1 && !tombstones.skewMargin().isNegative(),
        "quorumkv.tombstones settings must be positive");
    check(tombstones.skewMargin().compareTo(maxClockOffset.multipliedBy(2)) >= 0,
        "quorumkv.tombstones.skew-margin (" + tombstones.skewMargin() + ") must be at least twice"
            + " quorumkv.max-clock-offset (" + maxClockOffset + "): it is the purge rule's room for a clock ahead");
    check(isPositive(hints.expiry()), "quorumkv.hints.expiry must be positive");
    check(isPositive(hints.replayInterval()), "quorumkv.hints.replay-interval must be positive");
    check(hints.countMaxPerTarget() >= 1 && hints.bytesMaxPerTarget() >= 1, "quorumkv.hints limits must be positive");
    check(hints.replayPerTick() >= 1 && hints.inFlightMax() >= 1, "quorumkv.hints replay pace must be positive");
    for (PeerAddress peer : peers) {
      check(!peer.name().equalsIgnoreCase(nodeId), "peer " + peer.name() + " has this replica's node id");
    }
    // /metrics behind a token there is no file for would be open in silence.
    check(!metricsAuth || !tokensFile.isEmpty(),
        "quorumkv.auth.metrics (METRICS_AUTH) needs quorumkv.auth.tokens-file (AUTH_TOKENS_FILE)");
    check(tls.certFile().isEmpty() == tls.keyFile().isEmpty(),
        "quorumkv.tls.cert-file (TLS_CERT_FILE) and quorumkv.tls.key-file (TLS_KEY_FILE) go together: set both or"
            + " neither");
    // TLS always means mutual TLS between replicas: a replica verifies its peers against a CA the
    // operator names, never the JDK's public CAs (which issue certificates to whoever controls a
    // DNS name), and a replica without its own certificate could not call its peers.
    check(tls.caFile().isEmpty() == tls.certFile().isEmpty(),
        "quorumkv.tls.cert-file (TLS_CERT_FILE) and quorumkv.tls.ca-file (TLS_CA_FILE) go together: replicas verify"
            + " each other's certificates against the CA file and present their own");
    check(tls.peerCaFile().isEmpty() || tls.enabled(),
        "quorumkv.tls.peer-ca-file (TLS_PEER_CA_FILE) needs TLS_CERT_FILE, TLS_KEY_FILE and TLS_CA_FILE");
    check(!requireAuth || tls.enabled() && !tokensFile.isEmpty(),
        "REQUIRE_AUTH=true needs TLS_CERT_FILE, TLS_KEY_FILE, TLS_CA_FILE and AUTH_TOKENS_FILE; missing: "
            + missingForAuth(tls, tokensFile));
    // A replica with no peers would run as a cluster of one (W = R = 1) while its operator
    // believes it replicates: most often the PEER_* variables did not reach it.
    check(!peers.isEmpty() || allowSingleReplica,
        "no peers configured: set PEER_<NAME>_HOST and PEER_<NAME>_PORT for each other replica, or"
            + " ALLOW_SINGLE_REPLICA=true for a cluster of one (no replication)");
  }

  private static String missingForAuth(Tls tls, String tokensFile) {
    List<String> missing = new java.util.ArrayList<>();
    if (tls.certFile().isEmpty()) {
      missing.add("TLS_CERT_FILE");
    }
    if (tls.keyFile().isEmpty()) {
      missing.add("TLS_KEY_FILE");
    }
    if (tls.caFile().isEmpty()) {
      missing.add("TLS_CA_FILE");
    }
    if (tokensFile.isEmpty()) {
      missing.add("AUTH_TOKENS_FILE");
    }
    return String.join(", ", missing);
  }

  /** The node id when none is configured and no PEER_* entry is at this replica's own address. */
  public static final String DEFAULT_NODE_ID = "local";

  public static final String ENGINE_ROCKSDB = "rocksdb";
  public static final String ENGINE_MEMORY = "memory";

  /**
   * Reads {@code config}'s {@code quorumkv} section and the peers from {@code environment}; an
   * entry whose host resolves to this machine at this replica's port is this replica itself.
   */
  public static Settings load(Config config, Map<String, String> environment) {
    return load(config, environment, null);
  }

  /** As {@link #load(Config, Map)}, with {@code local} telling this replica's own addresses (null: this host's). */
  public static Settings load(Config config, Map<String, String> environment, LocalAddresses local) {
    try {
      KnownSettings.check(config, KnownSettings.reference());
      Config q = config.getConfig("quorumkv");
      LocalAddresses own = local != null ? local : LocalAddresses.of(q.getString("http.host"), q.getInt("http.port"));
      String configuredId = q.getString("node-id").trim();
      String nodeId = !configuredId.isEmpty() ? configuredId
          : PeerDiscovery.ownName(environment, own).orElse(DEFAULT_NODE_ID);
      return new Settings(
          nodeId,
          q.getString("data-dir"),
          nativeLibraryDir(q),
          snapshotDir(q),
          q.getString("http.host"),
          q.getInt("http.port"),
          new Connections(q.getInt("http.connections-max"), q.getInt("http.connections-per-address-max"),
              q.getInt("http.connections-reserved-for-peers"), q.getDuration("http.head-timeout")),
          PeerDiscovery.fromEnvironment(environment, nodeId, own),
          q.getBoolean("allow-single-replica"),
          q.getDuration("write-timeout"),
          q.getDuration("read-timeout"),
          q.getDuration("peer-request-timeout"),
          q.getInt("peer-requests-in-flight-max"),
          fanout(q),
          q.getBoolean("fast-round"),
          q.getBoolean("peer-stream"),
          q.getDuration("peer-ping-interval"),
          q.getString("cluster-secret"),
          cidrs(q.getString("internal-allow-cidrs")),
          q.getString("auth.tokens-file").trim(),
          q.getBoolean("auth.metrics"),
          new Tls(q.getString("tls.cert-file").trim(), q.getString("tls.key-file").trim(),
              q.getString("tls.ca-file").trim(), q.getString("tls.peer-ca-file").trim()),
          q.getBoolean("require-auth"),
          q.getInt("limits.key-bytes-max"),
          toIntBytes(q.getBytes("limits.value-bytes-max"), "quorumkv.limits.value-bytes-max"),
          q.getInt("limits.requests-in-flight-max"),
          q.getInt("limits.store-queue-max"),
          q.getBytes("limits.store-queue-bytes-max"),
          q.getString("storage.engine"),
          q.getBytes("storage.bytes-max"),
          Labels.parseOrThrow(FsyncMode.class, q.getString("storage.fsync"), "quorumkv.storage.fsync (FSYNC)"),
          q.getDuration("max-message-age"),
          q.getDuration("max-clock-offset"),
          new AntiEntropy(
              q.getBoolean("anti-entropy.enabled"),
              q.getDuration("anti-entropy.interval"),
              q.getInt("anti-entropy.buckets-per-round"),
              q.getInt("anti-entropy.keys-per-round"),
              q.getInt("anti-entropy.in-flight-max"),
              q.getDuration("anti-entropy.round-timeout")),
          new Hints(
              q.getBoolean("hints.enabled"),
              q.getDuration("hints.expiry"),
              q.getInt("hints.count-max-per-peer"),
              q.getBytes("hints.bytes-max-per-peer"),
              q.getDuration("hints.replay-interval"),
              q.getInt("hints.replay-per-tick"),
              q.getInt("hints.in-flight-max")),
          new Tombstones(
              q.getDuration("tombstones.sweep-interval"),
              q.getInt("tombstones.sweep-max"),
              q.getDuration("tombstones.skew-margin"),
              q.getDuration("tombstones.purge-check-interval")),
          q.getDuration("clock-offset"),
          DeliberateBug.parseList(q.getString("test.deliberate-bugs")));
    } catch (ConfigException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /** Where RocksDB's native library goes: the setting, else {@code native} inside the data directory. */
  private static String nativeLibraryDir(Config q) {
    String configured = q.getString("storage.native-library-dir").trim();
    return configured.isEmpty() ? java.nio.file.Path.of(q.getString("data-dir"), "native").toString() : configured;
  }

  /**
   * Where snapshots go: the setting, else {@code <data-dir>-snapshots} beside the data directory
   * (the same file system, likely, so checkpoints are hard links; and one per data directory, so
   * replicas sharing a parent directory never collide).
   */
  private static String snapshotDir(Config q) {
    String configured = q.getString("storage.snapshot-dir").trim();
    if (!configured.isEmpty()) {
      return configured;
    }
    java.nio.file.Path data = java.nio.file.Path.of(q.getString("data-dir")).toAbsolutePath().normalize();
    java.nio.file.Path name = data.getFileName();
    return data.resolveSibling((name == null ? "data" : name.toString()) + "-snapshots").toString();
  }

  private static List<io.quorumkv.security.Cidr> cidrs(String text) {
    try {
      return io.quorumkv.security.Cidr.parseList(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("quorumkv.internal-allow-cidrs (INTERNAL_ALLOW_CIDRS): " + e.getMessage(), e);
    }
  }

  private static Fanout fanout(Config q) {
    String mode = q.getString("fanout.mode").trim();
    return switch (mode) {
      case "quorum-first" -> {
        Duration hedgeDelay = q.getDuration("fanout.hedge-delay");
        check(isPositive(hedgeDelay), "quorumkv.fanout.hedge-delay (HEDGE_DELAY) must be positive");
        yield Fanout.quorumFirst(hedgeDelay);
      }
      case "all" -> Fanout.ALL;
      default -> throw new IllegalArgumentException(
          "quorumkv.fanout.mode (FANOUT) must be quorum-first or all, not '" + mode + "'");
    };
  }

  /** N: this replica and its peers. */
  public int replicas() {
    return peers.size() + 1;
  }

  private static int toIntBytes(long bytes, String name) {
    check(bytes <= Integer.MAX_VALUE - 1, name + " must be below 2 GiB");
    return (int) bytes;
  }

  private static boolean isPositive(Duration duration) {
    return !duration.isNegative() && !duration.isZero();
  }

  private static void check(boolean condition, String reason) {
    if (!condition) {
      throw new IllegalArgumentException(reason);
    }
  }
}
