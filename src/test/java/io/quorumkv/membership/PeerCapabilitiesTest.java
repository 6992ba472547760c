package io.quorumkv.membership;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.Test;

/**
 * Goal: the TTL gate's bookkeeping (docs/operating.md, "Upgrading"): a feature is offered only
 * once every peer that is not retired has said it supports it; a peer is asked again under a new
 * replica id; the last definite answer stands (an older build's 400 is "nothing").
 */
public class PeerCapabilitiesTest {

  private final Set<String> retired = new HashSet<>();
  private final PeerCapabilities capabilities = new PeerCapabilities(List.of("peer1", "peer2"), retired::contains);

  @Test
  public void aFeatureIsOfferedOnlyOnceEveryPeerNotRetiredSaidItSupportsIt() {
    assertEquals(Optional.of("peer1"), capabilities.lacking("ttl-records"));
    assertTrue(capabilities.needsAsking("peer1", 11L));
    capabilities.answered("peer1", 11L, List.of("ttl-records"));
    assertFalse(capabilities.needsAsking("peer1", 11L));
    assertEquals(Optional.of("peer2"), capabilities.lacking("ttl-records"));
    capabilities.answered("peer2", 22L, List.of()); // an older build's 400
    assertEquals(Optional.of("peer2"), capabilities.lacking("ttl-records"));
    retired.add("peer2");
    assertEquals(Optional.empty(), capabilities.lacking("ttl-records"));
    retired.remove("peer2");
    capabilities.answered("peer2", 22L, List.of("ttl-records", "something-later"));
    assertEquals(Optional.empty(), capabilities.lacking("ttl-records"));
  }

  @Test
  public void aPeerUnderANewIdIsAskedAgainAndItsNewAnswerReplacesTheOld() {
    capabilities.answered("peer1", 11L, List.of("ttl-records"));
    capabilities.answered("peer2", 22L, List.of("ttl-records"));
    assertTrue("a new replica id in peer2's place", capabilities.needsAsking("peer2", 23L));
    capabilities.answered("peer2", 23L, List.of());
    assertEquals(Optional.of("peer2"), capabilities.lacking("ttl-records"));
  }
}
