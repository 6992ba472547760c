package io.quorumkv;

import io.quorumkv.build.BuildInfo;
import io.quorumkv.wire.InternalHttp;
import java.io.PrintStream;

/**
 * The replica's own arguments. A replica is configured through its environment (and
 * {@code application.conf}), never through arguments, so the only ones it takes are
 * {@code --help} and {@code --version}, and the offline {@code recover} command; anything else
 * is refused with exit status 2, because a replica that quietly ignored {@code --port 8000}
 * would start somewhere its operator did not ask.
 */
final class ReplicaCommandLine {

  /** What the arguments ask for: run the replica, or exit with a status. */
  enum Action {
    RUN(-1), EXIT_OK(0), EXIT_USAGE(2), EXIT_STORAGE_UNUSABLE(4);

    final int status;

    Action(int status) {
      this.status = status;
    }
  }

  static final String RECOVER_USAGE = String.join("\n",
      "usage: java -jar quorumkv-replica.jar recover --from SNAPSHOT,SNAPSHOT,... --to DATA_DIR,DATA_DIR,...",
      "                                              [--accept-corrupt]",
      "",
      "Disaster recovery, when every replica is lost: writes each new data directory (new or empty) with,",
      "for every key, the newest record across the snapshots, under a new replica id of its own. Start one",
      "replica on each: they form a new cluster. Writes after the snapshots are lost, and a delete purged on",
      "one replica before its snapshot may come back from another's (docs/operating.md, \"Disaster recovery\").",
      "A snapshot holding undecodable records stops it, unless --accept-corrupt: their keys then take the",
      "newest readable record of another snapshot. Run it with no replica running on these directories.",
      "RocksDB's native library is unpacked in NATIVE_LIBRARY_DIR when set (else the temporary directory).");

  static final String HELP = String.join("\n",
      "usage: java -jar quorumkv-replica.jar [--help | --version]",
      "       java -jar quorumkv-replica.jar recover --from SNAPSHOT,... --to DATA_DIR,...   (recover --help)",
      "",
      "Runs one replica of a QuorumKV cluster (N = this replica + its peers, W = R = a majority).",
      "It takes no other arguments: it is configured through the environment.",
      "",
      "Required:",
      "  PEER_<NAME>_HOST, PEER_<NAME>_PORT  one pair per other replica (an entry naming this replica,",
      "                                      by NODE_ID or by its own address and port, is skipped)",
      "Common:",
      "  PORT                  listen port (default 7000)",
      "  LISTEN_HOST           listen address (default 0.0.0.0)",
      "  NODE_ID               this replica's name in logs and /cluster (default local)",
      "  DATA_DIR              data directory (default ./data)",
      "  FSYNC                 always | periodic | never (default always)",
      "  ALLOW_SINGLE_REPLICA  true to run with no peers (a cluster of one, W = R = 1)",
      "  LOG_LEVEL             error | warn | info | debug (default info)",
      "  LOG_FORMAT            text | json (default text)",
      "Every setting and its variable: docs/operating.md, \"Configuration\".",
      "",
      "Exit statuses: 0 stopped on request, 2 bad configuration or arguments, 3 cannot listen,",
      "  4 data directory unusable, 5 storage failed, 6 state went backwards, 7 disk full.");

  private static final java.util.Set<String> LOG_LEVELS = java.util.Set.of("error", "warn", "info", "debug", "trace");
  private static final java.util.Set<String> LOG_FORMATS = java.util.Set.of("text", "json");

  private ReplicaCommandLine() {}

  /** {@code recover --from A,B,C --to X,Y,Z} (also {@code --from=...}). */
  private static Action recover(java.util.List<String> args, PrintStream out, PrintStream err) {
    java.util.List<java.nio.file.Path> from = new java.util.ArrayList<>();
    java.util.List<java.nio.file.Path> to = new java.util.ArrayList<>();
    boolean acceptCorrupt = false;
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      if (arg.equals("--help") || arg.equals("-h")) {
        out.println(RECOVER_USAGE);
        return Action.EXIT_OK;
      }
      if (arg.equals("--accept-corrupt")) {
        acceptCorrupt = true;
        continue;
      }
      String option = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
      String value = arg.contains("=") ? arg.substring(arg.indexOf('=') + 1) : i + 1 < args.size() ? args.get(++i) : null;
      if (!(option.equals("--from") || option.equals("--to")) || value == null || value.isBlank()) {
        err.println("quorumkv: recover: unexpected argument '" + arg + "'");
        err.println(RECOVER_USAGE);
        return Action.EXIT_USAGE;
      }
      for (String path : value.split(",")) {
        (option.equals("--from") ? from : to).add(java.nio.file.Path.of(path.trim()));
      }
    }
    try {
      String nativeDir = System.getenv("NATIVE_LIBRARY_DIR");
      if (nativeDir != null && !nativeDir.isBlank()) {
        io.quorumkv.store.RocksDbNativeLibrary.load(java.nio.file.Path.of(nativeDir));
      }
      io.quorumkv.store.DisasterRecovery.Summary summary =
          io.quorumkv.store.DisasterRecovery.recover(from, to, acceptCorrupt);
      out.println("recovered " + summary.keys() + " keys (" + summary.tombstones() + " of them deleted) from "
          + from.size() + " snapshot(s), records read " + summary.recordsRead()
          + (acceptCorrupt ? ", corrupt records skipped " + summary.corruptSkipped() : ""));
      for (int i = 0; i < to.size(); i++) {
        out.println("  " + to.get(i) + ": replica id " + io.quorumkv.version.Version.hex(summary.replicaIds().get(i)));
      }
      out.println("start one replica on each directory; they become ready once all have heard from each other");
      return Action.EXIT_OK;
    } catch (IllegalArgumentException e) {
      err.println("quorumkv: recover: " + e.getMessage());
      err.println(RECOVER_USAGE);
      return Action.EXIT_USAGE;
    } catch (io.quorumkv.store.StorageUnusableException | IllegalStateException e) {
      err.println("quorumkv: recover: " + e.getMessage());
      return Action.EXIT_STORAGE_UNUSABLE;
    } catch (ExceptionInInitializerError | UnsatisfiedLinkError e) { // RocksDB's library could not be loaded
      err.println("quorumkv: recover: cannot load RocksDB's native library (" + e + "); set NATIVE_LIBRARY_DIR to a"
          + " writable directory that is not mounted noexec");
      return Action.EXIT_STORAGE_UNUSABLE;
    }
  }

  /**
   * A bad {@code LOG_LEVEL} or {@code LOG_FORMAT}, as a one-line reason. logback.xml reads them
   * itself, and would log at debug for a misspelt level and nothing at all for an unknown format.
   */
  static java.util.Optional<String> logSettingsProblem(java.util.Map<String, String> environment) {
    String level = environment.getOrDefault("LOG_LEVEL", "info").trim().toLowerCase(java.util.Locale.ROOT);
    if (!LOG_LEVELS.contains(level)) {
      return java.util.Optional.of("LOG_LEVEL must be error, warn, info, debug or trace, not '"
          + environment.get("LOG_LEVEL") + "'");
    }
    if (!LOG_FORMATS.contains(environment.getOrDefault("LOG_FORMAT", "text"))) {
      return java.util.Optional.of("LOG_FORMAT must be text or json, not '" + environment.get("LOG_FORMAT") + "'");
    }
    return java.util.Optional.empty();
  }

  /** Handles {@code args}: prints what was asked (help, version, or a usage error) and says what to do next. */
  static Action handle(String[] args, PrintStream out, PrintStream err) {
    if (args.length == 0) {
      return Action.RUN;
    }
    if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h"))) {
      out.println(HELP);
      return Action.EXIT_OK;
    }
    if (args.length == 1 && (args[0].equals("--version") || args[0].equals("-V"))) {
      out.println(BuildInfo.current().describe(InternalHttp.VERSION));
      return Action.EXIT_OK;
    }
    if (args[0].equals("recover")) {
      return recover(java.util.Arrays.asList(args).subList(1, args.length), out, err);
    }
    err.println("quorumkv: unexpected argument '" + args[0] + "': the replica is configured through environment"
        + " variables (PORT, PEER_<NAME>_HOST/PORT, ...), not arguments; see --help");
    return Action.EXIT_USAGE;
  }
}
