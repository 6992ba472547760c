package io.quorumkv.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine;

/** The client's release and commit (build.properties, filled in by Maven), for {@code --version}. */
final class ClientVersion implements CommandLine.IVersionProvider {

  static String describe() {
    Properties properties = new Properties();
    try (InputStream in = ClientVersion.class.getResourceAsStream("build.properties")) {
      if (in != null) {
        properties.load(in);
      }
    } catch (IOException e) {
      // reported as unknown
    }
    String commit = known(properties.getProperty("commit"));
    if (!commit.equals("unknown") && "true".equals(properties.getProperty("dirty"))) {
      commit += "-dirty";
    }
    return "quorumkv-client " + known(properties.getProperty("version")) + " (commit " + commit + ", Java "
        + System.getProperty("java.version") + ")";
  }

  private static String known(String value) {
    return value == null || value.isBlank() || value.startsWith("${") ? "unknown" : value.trim();
  }

  @Override
  public String[] getVersion() {
    return new String[] {describe()};
  }
}
