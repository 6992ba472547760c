package io.quorumkv.replication;

import akka.NotUsed;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Framing;
import akka.util.ByteString;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import io.quorumkv.store.Record;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.Value;
import io.quorumkv.version.Version;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;
import java.util.Optional;

/**
 * The replica-to-replica messages as they travel over HTTP: CBOR bodies (values travel as raw
 * bytes, not base64), one request and one answer type per internal endpoint. Decoding is
 * strict: a missing, null or unknown field is a malformed request (400), never a default.
 */
public final class InternalWire {

  public static final String CONTENT_TYPE = "application/cbor";
  public static final String SECRET_HEADER = "X-QuorumKV-Secret";
  public static final String READ_VERSION_PATH = "read-version";
  public static final String READ_PATH = "read";
  public static final String APPLY_PATH = "apply";
  /** Query parameter of {@link #APPLY_PATH}: the {@code Apply.Cause} label. */
  public static final String CAUSE_PARAMETER = "cause";
  public static final String PING_PATH = "ping";
  /** The replica's wall clock, for the clock fence (docs/clock-discipline.md, rule 3). */
  public static final String TIME_PATH = "time";
  public static final String BUCKETS_PATH = "buckets";
  public static final String ENTRIES_PATH = "entries";
  public static final String TOMBSTONE_PATH = "tombstone";
  public static final String SETTLE_PATH = "settle";
  /**
   * GET, upgraded to a WebSocket: the replication stream. One endless binary message each
   * way, carrying {@link #frame frames}: {@link StreamCall}s to the peer, {@link StreamAnswer}s
   * back; see {@link PeerStream}.
   */
  public static final String STREAM_PATH = "stream";

  private static final ObjectMapper CBOR = CBORMapper.builder()
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
      .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .build();

  private InternalWire() {}

  /** Body of {@code read-version} and {@code read}: the key and the sender's stamp. */
  public record KeyCall(String key, long senderReplicaId, long senderClock) {
    public KeyCall {
      checkCall(key, senderClock);
    }
  }

  /** Body of {@code apply}. {@code value} is null exactly for a tombstone. */
  public record ApplyCall(
      String key, long hlc, long versionReplicaId, boolean tombstone, byte[] value,
      long senderReplicaId, long senderClock) {
    public ApplyCall {
      checkCall(key, senderClock);
    }
  }

  /** Answer of {@code read-version} and {@code apply}: the version held and its digest. */
  public record VersionReply(long hlc, long versionReplicaId, long digest, long replicaId, long clock) {
    public VersionReply {
      if (hlc < 0 || clock < 0) {
        throw new IllegalArgumentException("clock readings and versions are never negative");
      }
    }
  }

  /** Answer of {@code read}; {@code found} is false when the key is absent. */
  public record RecordReply(
      boolean found, long hlc, long versionReplicaId, boolean tombstone, byte[] value,
      long replicaId, long clock) {
    public RecordReply {
      if (hlc < 0 || clock < 0) {
        throw new IllegalArgumentException("clock readings and versions are never negative");
      }
    }
  }

  /**
   * Answer of {@code ping}: who answers, its clock, and every replica id it has seen for each
   * of its peers (empty: never reached).
   */
  public record PingReply(String nodeId, long replicaId, long clock, java.util.Map<String, java.util.List<Long>> knownIds) {
    public PingReply {
      // Immutable lists throw on contains(null): check element by element.
      if (clock < 0 || knownIds == null
          || knownIds.values().stream().anyMatch(ids -> ids == null || ids.stream().anyMatch(Objects::isNull))) {
        throw new IllegalArgumentException("malformed ping answer");
      }
    }
  }

  /**
   * Body of {@code time}: who calls (replica id, the nonce of its process, its storage's
   * sequence number, its incarnation state, its peer names, from which the receiver finds the
   * caller's place) and the replica ids the caller has seen in the receiver's place
   * (docs/identity.md).
   */
  public record TimeCall(long replicaId, long bootNonce, long sequence, String state, java.util.List<String> peerNames,
      java.util.List<Long> idsInYourPlace) {
    public TimeCall {
      if (state == null || peerNames == null || peerNames.size() > 64 || peerNames.stream().anyMatch(Objects::isNull)
          || idsInYourPlace == null || idsInYourPlace.size() > 64 || idsInYourPlace.stream().anyMatch(Objects::isNull)) {
        throw new IllegalArgumentException("malformed time call");
      }
    }
  }

  /**
   * Answer of {@code time}: the answering replica's wall clock (not its hybrid clock), its
   * replica id and state, the ids it has seen in the caller's place, the highest storage sequence
   * number an earlier process of the caller's id reported, and whether another live process
   * answers under the caller's id.
   */
  public record TimeReply(long wallMillis, long replicaId, String state, java.util.List<Long> idsInYourPlace,
      long previousSequence, boolean duplicateOfYou) {
    public TimeReply {
      if (state == null || idsInYourPlace == null || idsInYourPlace.stream().anyMatch(Objects::isNull)) {
        throw new IllegalArgumentException("malformed time answer");
      }
    }
  }

  /** Answer of {@code buckets}: the anti-entropy bucket hashes (2 longs per bucket). */
  public record BucketsReply(long[] hashes, long replicaId, long clock) {
    public BucketsReply {
      if (hashes == null || hashes.length != io.quorumkv.store.BucketHashes.BUCKETS * 2 || clock < 0) {
        throw new IllegalArgumentException("malformed bucket hashes");
      }
    }
  }

  /** Body of {@code entries}: which buckets to list, and at most how many entries. */
  public record EntriesCall(int[] buckets, int limit, boolean includeSettled, long senderReplicaId, long senderClock) {
    public EntriesCall {
      if (buckets == null || limit < 1) {
        throw new IllegalArgumentException("an entries call names buckets and a positive limit");
      }
      for (int bucket : buckets) {
        if (bucket < 0 || bucket >= io.quorumkv.store.BucketHashes.BUCKETS) {
          throw new IllegalArgumentException("no bucket " + bucket);
        }
      }
    }
  }

  /** Body of {@code tombstone} (does the replica hold it?) and {@code settle} (it is settled). */
  public record TombstoneCall(String key, long hlc, long versionReplicaId, long senderReplicaId, long senderClock) {
    public TombstoneCall {
      checkCall(key, senderClock);
      if (hlc <= 0) {
        throw new IllegalArgumentException("a tombstone's version is above zero");
      }
    }
  }

  /** Answer of {@code tombstone}. */
  public record TombstoneReply(boolean holds, long replicaId, long clock) {
    public TombstoneReply {
      if (clock < 0) {
        throw new IllegalArgumentException("clock readings are never negative");
      }
    }
  }

  /** One record as anti-entropy compares it. */
  public record EntryWire(String key, long hlc, long versionReplicaId, long digest) {
    public EntryWire {
      if (key == null || hlc <= 0) {
        throw new IllegalArgumentException("malformed entry");
      }
    }
  }

  /** Answer of {@code entries}. */
  public record EntriesReply(java.util.List<EntryWire> entries, boolean truncated, long replicaId, long clock) {
    public EntriesReply {
      if (entries == null || entries.stream().anyMatch(Objects::isNull) || clock < 0) {
        throw new IllegalArgumentException("malformed entries");
      }
    }
  }

  /**
   * One call on the replication stream: {@code endpoint} and {@code cause} as the HTTP
   * transport would put them in the path and query, {@code body} the same CBOR body. The
   * sender picks {@code id}; the answer carries it back.
   */
  public record StreamCall(long id, String endpoint, String cause, byte[] body) {
    public StreamCall {
      if (endpoint == null || cause == null || body == null) {
        throw new IllegalArgumentException("a stream call names its endpoint and cause and has a body");
      }
    }
  }

  /** The answer to a {@link StreamCall}: 200 and the CBOR answer, or an HTTP status and its reason in UTF-8. */
  public record StreamAnswer(long id, int status, byte[] body) {
    public StreamAnswer {
      if (body == null) {
        throw new IllegalArgumentException("a stream answer has a body");
      }
    }
  }

  /**
   * The replication stream's byte stream: frames of a 4-byte big-endian length and that many
   * bytes of CBOR (one {@link StreamCall} or {@link StreamAnswer} each). Frames longer than
   * {@code frameBytesMax} end the stream.
   */
  public static Flow<ByteString, ByteString, NotUsed> deframer(int frameBytesMax) {
    return Framing.lengthField(4, 0, frameBytesMax + 4, ByteOrder.BIG_ENDIAN).map(frame -> frame.drop(4));
  }

  /** One frame of the replication stream: the length, then the CBOR of {@code message}. */
  public static ByteString frame(Object message) {
    byte[] body = encode(message);
    return ByteString.fromArray(ByteBuffer.allocate(4).putInt(body.length).array()).concat(ByteString.fromArray(body));
  }

  /** Thrown while decoding, so a violation is a malformed request like any other. */
  private static void checkCall(String key, long senderClock) {
    if (key == null) {
      throw new IllegalArgumentException("the key is missing");
    }
    if (senderClock < 0) {
      throw new IllegalArgumentException("a clock reading is never negative");
    }
  }

  public static byte[] encode(Object message) {
    try {
      return CBOR.writeValueAsBytes(message);
    } catch (IOException e) {
      throw new IllegalStateException("cannot encode " + message.getClass().getSimpleName(), e);
    }
  }

  /** @throws IOException when {@code bytes} is not a well-formed {@code type} */
  public static <T> T decode(byte[] bytes, Class<T> type) throws IOException {
    T message = CBOR.readValue(bytes, type);
    if (message == null) {
      throw new IOException("empty body");
    }
    return message;
  }

  public static ApplyCall applyCall(String key, Record record, Stamp sender) {
    return new ApplyCall(key, record.version().hlc(), record.version().replicaId(), record.isTombstone(),
        record.isTombstone() ? null : record.value().bytes(), sender.replicaId(), sender.clock());
  }

  /** @throws IllegalArgumentException when the call's record is inconsistent */
  public static Record recordOf(ApplyCall call) {
    return recordOf(call.hlc(), call.versionReplicaId(), call.tombstone(), call.value());
  }

  public static RecordReply recordReply(Optional<Record> record, Stamp stamp) {
    if (record.isEmpty()) {
      return new RecordReply(false, 0, 0, false, null, stamp.replicaId(), stamp.clock());
    }
    Record held = record.get();
    return new RecordReply(true, held.version().hlc(), held.version().replicaId(), held.isTombstone(),
        held.isTombstone() ? null : held.value().bytes(), stamp.replicaId(), stamp.clock());
  }

  public static Optional<Record> recordOf(RecordReply reply) {
    if (!reply.found()) {
      return Optional.empty();
    }
    return Optional.of(recordOf(reply.hlc(), reply.versionReplicaId(), reply.tombstone(), reply.value()));
  }

  private static Record recordOf(long hlc, long versionReplicaId, boolean tombstone, byte[] value) {
    Version version = new Version(hlc, versionReplicaId);
    if (tombstone != (value == null)) {
      throw new IllegalArgumentException("a record carries a value exactly when it is not a tombstone");
    }
    return tombstone ? Record.tombstone(version) : Record.of(version, Value.wrap(value));
  }
}
