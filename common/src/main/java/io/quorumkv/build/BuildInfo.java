package io.quorumkv.build;

import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * What this build came from: the release version and the commit, filled in by Maven
 * (build.properties next to this class). The replica reports it by {@code --version},
 * {@code GET /version} and the {@code quorumkv_build_info} metric, so an operator can tell which
 * build each replica runs during a rolling upgrade; the client by {@code --version}.
 *
 * @param version the release, e.g. {@code 0.1.0-SNAPSHOT}
 * @param commit the abbreviated git commit ({@code -dirty} when built from uncommitted changes),
 *     or {@code unknown} when built outside a checkout
 */
public record BuildInfo(String version, String commit) {

  private static final BuildInfo CURRENT = load();

  public static BuildInfo current() {
    return CURRENT;
  }

  /**
   * One line for {@code --version}, naming the replica protocol {@code wire} this build speaks:
   * {@code quorumkv 0.1.0 (commit abc1234, wire v2, Java 17.0.15)}.
   */
  public String describe(String wire) {
    return "quorumkv " + version + " (commit " + commit + ", wire " + wire + ", Java " + javaVersion() + ")";
  }

  /** The body of {@code GET /version}. */
  public Map<String, Object> toJson(String wire) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("version", version);
    body.put("commit", commit);
    body.put("wire", wire);
    body.put("java", javaVersion());
    return body;
  }

  public static String javaVersion() {
    return System.getProperty("java.version");
  }

  private static BuildInfo load() {
    Properties properties = new Properties();
    try (InputStream in = BuildInfo.class.getResourceAsStream("build.properties")) {
      if (in != null) {
        properties.load(in);
      }
    } catch (IOException e) {
      // Reported as unknown below: a missing version must not stop a replica or the client.
    }
    String commit = known(properties.getProperty("commit"));
    if (!commit.equals("unknown") && "true".equals(properties.getProperty("dirty"))) {
      commit += "-dirty";
    }
    return new BuildInfo(known(properties.getProperty("version")), commit);
  }

  /** An unfilled placeholder (a build without Maven or outside a git checkout) is "unknown". */
  private static String known(String value) {
    return value == null || value.isBlank() || value.startsWith("${") ? "unknown" : value.trim();
  }
}
