package io.quorumkv;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import org.junit.Test;

/** Goal: the replica takes --help and --version only, and refuses any other argument and bad log settings. */
public class ReplicaCommandLineTest {

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private ReplicaCommandLine.Action handle(String... args) {
    return ReplicaCommandLine.handle(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  public void noArgumentsRunsTheReplica() {
    assertEquals(ReplicaCommandLine.Action.RUN, handle());
    assertEquals("", out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8));
  }

  @Test
  public void helpListsTheEnvironmentAndExitsZero() {
    assertEquals(ReplicaCommandLine.Action.EXIT_OK, handle("--help"));
    String help = out.toString(StandardCharsets.UTF_8);
    assertTrue(help, help.startsWith("usage:") && help.contains("PEER_<NAME>_HOST") && help.contains("ALLOW_SINGLE_REPLICA"));
    assertEquals(ReplicaCommandLine.Action.EXIT_OK, handle("-h"));
  }

  @Test
  public void versionPrintsOneLineNamingTheWire() {
    assertEquals(ReplicaCommandLine.Action.EXIT_OK, handle("--version"));
    String version = out.toString(StandardCharsets.UTF_8);
    assertTrue(version, version.startsWith("quorumkv ") && version.contains("wire v2") && version.endsWith(")\n"));
  }

  @Test
  public void anyOtherArgumentIsRefused() {
    for (String[] args : new String[][] {{"--port", "8000"}, {"--port=8000"}, {"run"}, {"--help", "extra"}}) {
      err.reset();
      assertEquals(String.join(" ", args), ReplicaCommandLine.Action.EXIT_USAGE, handle(args));
      assertTrue(err.toString(StandardCharsets.UTF_8),
          err.toString(StandardCharsets.UTF_8).contains("unexpected argument '" + args[0] + "'"));
    }
  }

  @Test
  public void logSettingsAreChecked() {
    assertEquals(Optional.empty(), ReplicaCommandLine.logSettingsProblem(Map.of()));
    assertEquals(Optional.empty(), ReplicaCommandLine.logSettingsProblem(Map.of("LOG_LEVEL", "DEBUG", "LOG_FORMAT", "json")));
    assertTrue(ReplicaCommandLine.logSettingsProblem(Map.of("LOG_LEVEL", "verbose")).orElseThrow().contains("LOG_LEVEL"));
    assertTrue(ReplicaCommandLine.logSettingsProblem(Map.of("LOG_FORMAT", "xml")).orElseThrow().contains("LOG_FORMAT"));
  }
}
