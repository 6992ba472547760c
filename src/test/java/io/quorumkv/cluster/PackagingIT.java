package io.quorumkv.cluster;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.nio.file.Path;
import org.junit.Test;

/**
 * The packaging as deployed (packaging/check.sh): the Kubernetes manifest and Grafana dashboard
 * parse, the systemd unit verifies, and three replicas started through the image's entrypoint
 * with exactly the environment each StatefulSet pod would get, in three network namespaces on
 * port 7000, become ready and pass the client scenario. Needs root for the namespaces; elsewhere
 * it is skipped, saying why (CI runs as root).
 */
public class PackagingIT {

  private static final Path LOG = Path.of("target", "cluster-it", "packaging.log");

  @Test(timeout = 300_000)
  public void theStatefulSetsPodsRunThroughTheEntrypointAndPassTheScenario() throws Exception {
    assumeTrue("packaging/check.sh needs root (network namespaces); skipped", ClusterFixture.canMakeNetworkNamespaces());
    ClusterFixture.ScriptRun check = ClusterFixture.runScript(LOG, "bash", "packaging/check.sh");
    assertEquals(check.output(), 0, check.exitStatus());
    assertTrue(check.output(), check.output().contains("all three pods ready")
        && check.output().trim().endsWith("packaging check: OK"));
    assertTrue(check.output(), check.output().contains("PEER_PEER1_HOST=quorumkv-1.quorumkv.default.svc.cluster.local"));
  }
}
