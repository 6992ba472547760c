package io.quorumkv.cluster;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.nio.file.Path;
import org.junit.Test;

/**
 * Goal: the network-access rules from a real address that is neither loopback nor a peer's (all of
 * 127/8 is loopback, so the client runs in a network namespace this test creates): public calls
 * served; internal calls, the replication stream and admin calls refused, forged forwarding
 * headers changing nothing; admin calls from loopback answered. The script is
 * src/test/scripts/network-access.sh. Needs root; skipped, saying why, elsewhere.
 */
public class NetworkAccessIT {

  private static final Path WORK = Path.of("target", "cluster-it", "network-access").toAbsolutePath();

  @Test(timeout = 300_000)
  public void strangersReachThePublicApiOnly() throws Exception {
    assumeTrue("network namespaces need root; skipped", ClusterFixture.canMakeNetworkNamespaces());
    ClusterFixture.ScriptRun check = ClusterFixture.runScript(WORK.resolve("check.log"), "bash",
        "src/test/scripts/network-access.sh", ClusterFixture.REPLICA_JAR.toAbsolutePath().toString(),
        WORK.resolve("cluster").toString());
    assertEquals(check.output(), 0, check.exitStatus());
    assertTrue(check.output(), check.output().trim().endsWith("network access check: OK"));
  }
}
