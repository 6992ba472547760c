package io.quorumkv.replication;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;

import io.quorumkv.replication.InternalWire.BucketsReply;
import io.quorumkv.replication.InternalWire.EntriesReply;
import io.quorumkv.replication.InternalWire.EntryWire;
import io.quorumkv.replication.InternalWire.PingReply;
import io.quorumkv.store.BucketHashes;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.Test;

/**
 * Goal: every answer a replica sends round-trips through CBOR exactly as built by the routes
 * (immutable collections included), and malformed answers are refused when decoded.
 */
public class InternalWireTest {

  @Test
  public void answersRoundTrip() throws IOException {
    PingReply ping = new PingReply("peer0", 1L, 2L, Map.of("peer1", List.of(3L, 4L), "peer2", List.of()));
    assertEquals(ping, InternalWire.decode(InternalWire.encode(ping), PingReply.class));

    EntriesReply entries = new EntriesReply(List.of(new EntryWire("k", 5L, 6L, 7L)), false, 1L, 2L);
    assertEquals(entries, InternalWire.decode(InternalWire.encode(entries), EntriesReply.class));

    long[] hashes = new long[BucketHashes.BUCKETS * 2];
    hashes[3] = 42L;
    BucketsReply buckets = new BucketsReply(hashes, 1L, 2L);
    assertArrayEquals(hashes, InternalWire.decode(InternalWire.encode(buckets), BucketsReply.class).hashes());
  }

  @Test
  public void malformedAnswersAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> new PingReply("p", 1L, -1L, Map.of()));
    assertThrows(IllegalArgumentException.class, () -> new BucketsReply(new long[3], 1L, 2L));
    assertThrows(IllegalArgumentException.class, () -> new EntryWire(null, 5L, 6L, 7L));
    assertThrows(IOException.class, () -> InternalWire.decode(
        InternalWire.encode(Map.of("nodeId", "p", "replicaId", 1, "clock", -5, "knownIds", Map.of())), PingReply.class));
  }
}
