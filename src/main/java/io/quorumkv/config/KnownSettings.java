package io.quorumkv.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Refuses settings under {@code quorumkv} that the replica does not know: a misspelt
 * {@code write-timout} in a config file or {@code -D} option would otherwise be ignored in
 * silence, and the replica would run on a default its operator believes changed. The known
 * settings are those of the {@code application.conf} shipped in the jar, which names every one.
 */
public final class KnownSettings {

  /**
   * Keys left open: Akka's dispatcher settings ({@code storage-dispatcher}), and the test
   * harness's system properties, which ConfigFactory.load() lays over every config
   * ({@code -Dquorumkv.test.seed=N}, {@code quorumkv.sim.*}, the jars the cluster tests start).
   */
  private static final List<String> OPEN_SUBTREES = List.of("storage-dispatcher.", "test.", "sim.");
  private static final java.util.Set<String> OPEN_KEYS = java.util.Set.of("replicaJar", "clientJar");

  private KnownSettings() {}

  /** The shipped defaults: every setting the replica reads. */
  public static Config reference() {
    return ConfigFactory.parseResources(KnownSettings.class.getClassLoader(), "application.conf").resolve();
  }

  /**
   * @throws IllegalArgumentException naming the first unknown setting under {@code quorumkv} in
   *     {@code loaded}, with the nearest known one when there is a close match
   */
  public static void check(Config loaded, Config reference) {
    if (!loaded.hasPath("quorumkv")) {
      return;
    }
    Set<String> known = new TreeSet<>();
    reference.getConfig("quorumkv").entrySet().forEach(entry -> known.add(entry.getKey()));
    List<String> unknown = new ArrayList<>();
    for (Map.Entry<String, ?> entry : loaded.getConfig("quorumkv").entrySet()) {
      String key = entry.getKey();
      if (!known.contains(key) && !OPEN_KEYS.contains(key) && OPEN_SUBTREES.stream().noneMatch(key::startsWith)) {
        unknown.add(key);
      }
    }
    if (unknown.isEmpty()) {
      return;
    }
    unknown.sort(null);
    String first = unknown.get(0);
    String hint = nearest(first, known).map(match -> " (did you mean quorumkv." + match + "?)").orElse("");
    throw new IllegalArgumentException("unknown setting quorumkv." + first + hint
        + (unknown.size() > 1 ? " and " + (unknown.size() - 1) + " more" : "")
        + "; the settings are listed in docs/operating.md, \"Configuration\"");
  }

  /** The known key within a third of its length in edits, if any (a likely misspelling). */
  static Optional<String> nearest(String key, Set<String> known) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String candidate : known) {
      int distance = editDistance(key, candidate);
      if (distance < bestDistance) {
        best = candidate;
        bestDistance = distance;
      }
    }
    return best != null && bestDistance <= Math.max(1, key.length() / 3) ? Optional.of(best) : Optional.empty();
  }

  private static int editDistance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }
}
