package io.quorumkv.config;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.Test;

/** Goal: the PEER_<NAME>_HOST/PORT discovery contract, including its error messages. */
public class PeerDiscoveryTest {

  @Test
  public void readsEveryPeerPairAndIgnoresOtherVariables() {
    List<PeerAddress> peers = PeerDiscovery.fromEnvironment(Map.of(
        "PEER_PEER1_HOST", "10.0.0.2", "PEER_PEER1_PORT", "7000",
        "PEER_PEER2_HOST", "db-2", "PEER_PEER2_PORT", " 7001 ",
        "PORT", "7000", "PEERLESS", "x"), "peer0");
    assertEquals(List.of(new PeerAddress("peer1", "10.0.0.2", 7000), new PeerAddress("peer2", "db-2", 7001)), peers);
  }

  @Test
  public void skipsTheEntryThatDescribesThisReplica() {
    List<PeerAddress> peers = PeerDiscovery.fromEnvironment(Map.of(
        "PEER_PEER0_HOST", "h0", "PEER_PEER0_PORT", "7000",
        "PEER_PEER1_HOST", "h1", "PEER_PEER1_PORT", "7000"), "PEER0");
    assertEquals(List.of(new PeerAddress("peer1", "h1", 7000)), peers);
  }

  @Test
  public void skipsTheEntryAtThisReplicasOwnAddressWhateverItsName() {
    // NODE_ID names another replica (or is unset): the entry at this host and port is still this one.
    Map<String, String> environment = Map.of(
        "PEER_A_HOST", "127.0.0.1", "PEER_A_PORT", "7000",
        "PEER_B_HOST", "127.0.0.1", "PEER_B_PORT", "7001",
        "PEER_C_HOST", "no-such-host.invalid", "PEER_C_PORT", "7000");
    List<PeerAddress> peers = PeerDiscovery.fromEnvironment(environment, "local", LocalAddresses.of("0.0.0.0", 7000));
    assertEquals(List.of(new PeerAddress("b", "127.0.0.1", 7001), new PeerAddress("c", "no-such-host.invalid", 7000)),
        peers);
  }

  @Test
  public void anotherLoopbackAddressIsAPeerWhenThisReplicaListensOnOneAddress() {
    // Tests run replicas on 127.0.0.x at one port: only the address listened on is this replica.
    Map<String, String> environment = Map.of(
        "PEER_A_HOST", "127.0.0.1", "PEER_A_PORT", "7000", "PEER_B_HOST", "127.0.0.2", "PEER_B_PORT", "7000");
    assertEquals(List.of(new PeerAddress("b", "127.0.0.2", 7000)),
        PeerDiscovery.fromEnvironment(environment, "local", LocalAddresses.of("127.0.0.1", 7000)));
    assertEquals(List.of(new PeerAddress("a", "127.0.0.1", 7000), new PeerAddress("b", "127.0.0.2", 7000)),
        PeerDiscovery.fromEnvironment(environment, "local", LocalAddresses.of("127.0.0.3", 7000)));
  }

  @Test
  public void aNameAndAnAddressThatDisagreeAreRefusedNeverGuessed() {
    // An environment file copied to the host of peer1 that still says NODE_ID=peer0.
    Map<String, String> environment = Map.of(
        "PEER_PEER0_HOST", "db-0.invalid", "PEER_PEER0_PORT", "7000",
        "PEER_PEER1_HOST", "127.0.0.1", "PEER_PEER1_PORT", "7000");
    IllegalArgumentException disagree = assertThrows(IllegalArgumentException.class,
        () -> PeerDiscovery.fromEnvironment(environment, "peer0", LocalAddresses.of("0.0.0.0", 7000)));
    assertTrue(disagree.getMessage(), disagree.getMessage().contains("NODE_ID names PEER_PEER0_HOST, but PEER_PEER1_HOST"));
    IllegalArgumentException twice = assertThrows(IllegalArgumentException.class, () -> PeerDiscovery.fromEnvironment(
        Map.of("PEER_A_HOST", "127.0.0.1", "PEER_A_PORT", "7000", "PEER_B_HOST", "localhost", "PEER_B_PORT", "7000"),
        "local", LocalAddresses.of("0.0.0.0", 7000)));
    assertTrue(twice.getMessage(), twice.getMessage().contains("both point at this replica's own address"));
  }

  @Test
  public void noPeersIsASingleReplica() {
    assertTrue(PeerDiscovery.fromEnvironment(Map.of(), "local").isEmpty());
  }

  @Test
  public void incompleteOrInvalidPairsAreRefusedWithTheVariableName() {
    Map<Map<String, String>, String> cases = Map.of(
        Map.of("PEER_PEER1_HOST", "h"), "PEER_PEER1_PORT is missing",
        Map.of("PEER_PEER1_PORT", "7000"), "PEER_PEER1_HOST is missing",
        Map.of("PEER_PEER1_HOST", "h", "PEER_PEER1_PORT", "seven"), "PEER_PEER1_PORT must be a port number",
        Map.of("PEER_PEER1_HOST", "h", "PEER_PEER1_PORT", "70000"), "PEER_PEER1_PORT must be a port number");
    cases.forEach((environment, reason) -> {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> PeerDiscovery.fromEnvironment(environment, "peer0"));
      assertTrue(e.getMessage(), e.getMessage().startsWith(reason));
    });
  }
}
