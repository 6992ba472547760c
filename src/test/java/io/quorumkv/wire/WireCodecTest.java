package io.quorumkv.wire;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import io.quorumkv.store.BucketHashes;
import io.quorumkv.store.Proposal;
import io.quorumkv.store.Record;
import io.quorumkv.store.ReplicaProtocol;
import io.quorumkv.store.ReplicaProtocol.*;
import io.quorumkv.store.Value;
import io.quorumkv.version.Version;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.Test;

/**
 * Goal: every message of the replica protocol survives the codec unchanged, and the decoder
 * refuses what the records refuse. The samples must cover the whole sealed family, so a message
 * added to {@link ReplicaProtocol} is round-tripped here too.
 */
public class WireCodecTest {

  private static final Stamp STAMP = new Stamp(9L, 1L << 30);
  private static final Version VERSION = new Version(1L << 30, 5L);
  private static final Version BALLOT = new Version((1L << 30) + 7, 9L);
  private static final Record VALUE = Record.of(VERSION, Value.ofUtf8("v"));

  private static List<Object> samples() {
    return List.of(
        new ReadVersion("k", STAMP),
        new Read("k", STAMP, Cause.READ),
        new Apply("k", VALUE, STAMP, Cause.WRITE_BACK),
        new Apply("k", Record.tombstone(VERSION), STAMP, Cause.HINT),
        new GetBuckets(STAMP),
        new ListEntries(List.of(0, 7), 100, true, STAMP),
        new ReplicaProtocol.ListPage("app/", "app/k\0", 1000, false, STAMP),
        new ReplicaProtocol.Page(STAMP, List.of(
            new ReplicaProtocol.PageEntry("app/a", VERSION, VALUE.digest(), false, false, Optional.empty()),
            new ReplicaProtocol.PageEntry("app/b", Version.ZERO, Record.TOMBSTONE_DIGEST, true, true,
                Optional.of(Value.ofUtf8("local only")))), Optional.of("app/b")),
        new ReplicaProtocol.Page(STAMP, List.of(), Optional.empty()),
        new CheckTombstone("k", VERSION, STAMP),
        new SettleTombstone("k", VERSION, STAMP),
        new Ping(),
        new TimeCall(9L, 3L, 12L, "ready", List.of("peer1"), List.of(4L)),
        new VersionHeld(STAMP, Version.ZERO, 0L),
        new RecordHeld(STAMP, Optional.of(VALUE)),
        new RecordHeld(STAMP, Optional.empty()),
        new Applied(STAMP, VERSION, VALUE.digest()),
        new Unavailable("storage full"),
        new Buckets(STAMP, new long[BucketHashes.BUCKETS * 2]),
        new Entries(STAMP, List.of(new Entry("k", VERSION, 1L)), false),
        new TombstoneHeld(STAMP, true),
        new PingReply("peer0", 9L, 5L, Map.of("peer1", List.of(1L, 2L))),
        new TimeReply(1000L, 9L, "ready", List.of(), 0L, false),
        new Prepare("k", BALLOT, STAMP, Cause.CONDITIONAL_WRITE),
        new Accept("k", BALLOT, Optional.of(VALUE), STAMP, Cause.SETTLE),
        new Commit("k", BALLOT, Optional.of(Record.tombstone(VERSION)), STAMP, Cause.READ),
        new Promised(STAMP, Optional.of(VALUE), VERSION, Optional.of(new Proposal(BALLOT, VALUE))),
        new Promised(STAMP, Optional.empty(), Version.ZERO, Optional.empty()),
        new Preempted(STAMP, BALLOT),
        new Accepted(STAMP, BALLOT),
        new Fenced(STAMP, BALLOT),
        new CheckPaxos("k", STAMP),
        new ForgetPaxos("k", STAMP),
        new HoldsProposalsBefore(1L << 30, STAMP),
        new PaxosHeld(STAMP, true),
        new RecordAndProposal(STAMP, Optional.empty(), new Proposal(BALLOT, Record.tombstone(BALLOT))),
        new FastAccept("k", BALLOT, Optional.of(VERSION), Record.of(BALLOT, Value.ofUtf8("fast")), STAMP),
        new FastAccept("k", BALLOT, Optional.empty(), Record.tombstone(BALLOT), STAMP),
        new Accept("k", BALLOT, Optional.empty(), STAMP, Cause.READ),
        new Commit("k", BALLOT, Optional.empty(), STAMP, Cause.SETTLE),
        new Promised(STAMP, Optional.empty(), VERSION,
            Optional.of(new Proposal(BALLOT, Optional.of(Record.of(BALLOT, Value.ofUtf8("fast"))), true))),
        new RecordAndProposal(STAMP, Optional.of(VALUE), Proposal.empty(BALLOT)),
        new Apply("k", new Record(VERSION, Value.ofUtf8("expiring"), 30_000L), STAMP, Cause.WRITE),
        new ReplicaProtocol.Page(STAMP, List.of(new ReplicaProtocol.PageEntry("app/t", VERSION,
            new Record(VERSION, Value.ofUtf8("t"), 5_000L).digest(), false, false, Optional.empty(), 5_000L, false)),
            Optional.empty()),
        new RecordHeld(STAMP, Optional.of(new Record(VERSION, Value.ofUtf8("lease"), 5_000L)), Optional.of(BALLOT)),
        new RecordAndProposal(STAMP, Optional.empty(), new Proposal(VERSION, new Record(VERSION, Value.ofUtf8("l"),
            5_000L)), Optional.of(BALLOT)),
        new ReplicaProtocol.Page(STAMP, List.of(new ReplicaProtocol.PageEntry("app/p", VERSION,
            new Record(VERSION, Value.ofUtf8("p"), 5_000L).digest(), false, false, Optional.empty(), 5_000L, true)),
            Optional.empty()),
        new Capabilities(),
        new CapabilitiesHeld(Capabilities.OF_THIS_BUILD));
  }

  /**
   * The rolling upgrade to TTLs: a record or page entry without TTL is written without the new
   * field (so the build before reads it), a message of the build before (no field) reads as no
   * TTL, and a TTL record keeps its TTL; a negative or misplaced TTL is malformed.
   */
  @Test
  public void theTtlFieldIsLeftOutWhenThereIsNoneAndReadAsNoneWhenMissing() throws Exception {
    CBORMapper raw = new CBORMapper();
    assertEquals("a read answer without a promise reads as the build before wrote it", Set.of("type", "stamp", "record"),
        raw.readValue(WireCodec.encode(new RecordHeld(STAMP, Optional.of(VALUE))), Map.class).keySet());
    Map<String, Object> heldBefore = new java.util.HashMap<>(Map.of("type", "record-held",
        "stamp", Map.of("replicaId", 9, "clock", 1L << 30)));
    heldBefore.put("record", null); // how the build before writes an absent record
    assertEquals(Optional.empty(), ((RecordHeld) WireCodec.decode(raw.writeValueAsBytes(heldBefore), Answer.class))
        .promise());
    Map<?, ?> plain = raw.readValue(WireCodec.encode(new Apply("k", VALUE, STAMP, Cause.WRITE)), Map.class);
    assertEquals(Set.of("version", "value"), ((Map<?, ?>) plain.get("record")).keySet());
    Map<?, ?> entry = (Map<?, ?>) ((List<?>) raw.readValue(WireCodec.encode(new ReplicaProtocol.Page(STAMP,
        List.of(new ReplicaProtocol.PageEntry("a", VERSION, 1L, false, false, Optional.empty())), Optional.empty())),
        Map.class).get("entries")).get(0);
    assertTrue(entry.toString(), !entry.containsKey("ttlMillis"));

    Map<String, Object> previousBuild = Map.of("type", "apply", "key", "k", "cause", "WRITE",
        "stamp", Map.of("replicaId", 9, "clock", 1L << 30),
        "record", Map.of("version", Map.of("hlc", 1L << 30, "replicaId", 5), "value", new byte[] {1}));
    Apply decoded = (Apply) WireCodec.decode(raw.writeValueAsBytes(previousBuild), Request.class);
    assertEquals(0L, decoded.record().ttlMillis());

    Map<?, ?> withTtl = raw.readValue(WireCodec.encode(
        new Apply("k", new Record(VERSION, Value.ofUtf8("x"), 30_000L), STAMP, Cause.WRITE)), Map.class);
    assertEquals(30_000, ((Number) ((Map<?, ?>) withTtl.get("record")).get("ttlMillis")).intValue());

    for (Object ttl : List.of(-1, 999, 0L + Record.TTL_MAX_MILLIS + 1)) {
      Map<String, Object> bad = new java.util.HashMap<>(previousBuild);
      bad.put("record", Map.of("version", Map.of("hlc", 1L << 30, "replicaId", 5), "value", new byte[] {1},
          "ttlMillis", ttl));
      assertThrows(ttl.toString(), WireCodec.MalformedMessage.class,
          () -> WireCodec.decode(raw.writeValueAsBytes(bad), Request.class));
    }
    Map<String, Object> tombstoneWithTtl = new java.util.HashMap<>(previousBuild);
    Map<String, Object> tombstoneRecord = new java.util.HashMap<>();
    tombstoneRecord.put("version", Map.of("hlc", 1L << 30, "replicaId", 5));
    tombstoneRecord.put("value", null);
    tombstoneRecord.put("ttlMillis", 5_000);
    tombstoneWithTtl.put("record", tombstoneRecord);
    assertThrows(WireCodec.MalformedMessage.class,
        () -> WireCodec.decode(raw.writeValueAsBytes(tombstoneWithTtl), Request.class));
  }

  @Test
  public void everyMessageRoundTrips() throws Exception {
    for (Object message : samples()) {
      Class<?> family = message instanceof Request ? Request.class : Answer.class;
      Object decoded = WireCodec.decode(WireCodec.encode(message), family);
      if (message instanceof Buckets buckets) {
        assertArrayEquals(buckets.hashes(), ((Buckets) decoded).hashes());
      } else {
        assertEquals(message, decoded);
      }
    }
  }

  @Test
  public void theSamplesCoverTheWholeFamily() {
    Set<Class<?>> records = new HashSet<>();
    collect(Request.class, records);
    collect(Answer.class, records);
    Set<Class<?>> sampled = new HashSet<>();
    samples().forEach(sample -> sampled.add(sample.getClass()));
    records.removeAll(sampled);
    assertEquals("protocol records without a sample here", Set.of(), records);
  }

  private static void collect(Class<?> sealed, Set<Class<?>> into) {
    for (Class<?> type : sealed.getPermittedSubclasses()) {
      if (type.isInterface()) {
        collect(type, into);
      } else {
        into.add(type);
      }
    }
  }

  @Test
  public void streamFramesRoundTrip() throws Exception {
    StreamFrames.StreamCall call = new StreamFrames.StreamCall(4L, new Read("k", STAMP, Cause.READ));
    assertEquals(call, WireCodec.decode(WireCodec.encode(call), StreamFrames.StreamCall.class));
    StreamFrames.StreamAnswer refused = StreamFrames.StreamAnswer.refused(4L, 400, "malformed");
    assertEquals(refused, WireCodec.decode(WireCodec.encode(refused), StreamFrames.StreamAnswer.class));
    StreamFrames.StreamAnswer answered = StreamFrames.StreamAnswer.answered(5L, new Unavailable("x"));
    assertEquals(answered, WireCodec.decode(WireCodec.encode(answered), StreamFrames.StreamAnswer.class));
  }

  @Test
  public void typeNamesAreTheRecordNamesInKebabCase() {
    assertEquals("read-version", WireCodec.typeName(ReadVersion.class));
    assertEquals("settle-tombstone", WireCodec.typeName(SettleTombstone.class));
    assertEquals("ping", WireCodec.typeName(Ping.class));
  }

  @Test
  public void malformedMessagesAreRefused() throws Exception {
    CBORMapper raw = new CBORMapper();
    List<Object> bad = new ArrayList<>(List.of(
        Map.of("type", "ping", "extra", 1), // an unknown field
        Map.of("type", "read", "key", "k", "cause", "READ"), // a missing field
        Map.of("type", "no-such", "key", "k"), // an unknown type
        Map.of("key", "k"), // no type
        Map.of("type", "read", "key", "k", "cause", "READ", "stamp", Map.of("replicaId", 1, "clock", -1)),
        Map.of("type", "ping-reply", "nodeId", "p", "replicaId", 1, "clock", -5, "knownIds", Map.of()),
        Map.of("type", "buckets", "stamp", Map.of("replicaId", 1, "clock", 1), "hashes", List.of(1L, 2L))));
    for (Object message : bad) {
      byte[] bytes = raw.writeValueAsBytes(message);
      Class<?> family = message.toString().contains("reply") || message.toString().contains("buckets")
          ? Answer.class : Request.class;
      assertThrows(message.toString(), WireCodec.MalformedMessage.class, () -> WireCodec.decode(bytes, family));
    }
    assertThrows(WireCodec.MalformedMessage.class, () -> WireCodec.decode(new byte[0], Request.class));
    assertThrows(WireCodec.MalformedMessage.class, () -> WireCodec.decode(new byte[] {(byte) 0xff}, Request.class));
  }

  @Test
  public void anAnswerIsNotARequest() {
    byte[] answer = WireCodec.encode(new Unavailable("x"));
    assertThrows(WireCodec.MalformedMessage.class, () -> WireCodec.decode(answer, Request.class));
    assertTrue(WireCodec.messageBytesMax(1024) > 1024);
  }
}
