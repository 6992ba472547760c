package io.quorumkv.cli;

import io.quorumkv.build.BuildInfo;
import picocli.CommandLine;

/** The client's release and commit, for {@code --version}. */
final class ClientVersion implements CommandLine.IVersionProvider {

  static String describe() {
    BuildInfo build = BuildInfo.current();
    return "quorumkv-client " + build.version() + " (commit " + build.commit() + ", Java " + BuildInfo.javaVersion() + ")";
  }

  @Override
  public String[] getVersion() {
    return new String[] {describe()};
  }
}
