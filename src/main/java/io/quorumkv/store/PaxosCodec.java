package io.quorumkv.store;

import io.quorumkv.version.Version;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Optional;

/**
 * The on-disk form of a {@link PaxosState} (the {@code paxos} column family): a format byte, the
 * promise and the committed ballot (hlc, replica id, 8 bytes each, big-endian), a byte saying
 * whether a proposal follows, then its ballot and its record in {@link RecordCodec}'s form.
 */
final class PaxosCodec {

  static final byte FORMAT = 1;
  private static final int HEADER_BYTES = 1 + 16 + 16 + 1;

  private PaxosCodec() {}

  static byte[] encode(PaxosState state) {
    byte[] record = state.accepted().map(proposal -> RecordCodec.encode(proposal.record())).orElse(new byte[0]);
    ByteBuffer buffer = ByteBuffer.allocate(HEADER_BYTES + (state.accepted().isPresent() ? 16 + record.length : 0));
    buffer.put(FORMAT);
    put(buffer, state.promised());
    put(buffer, state.committed());
    buffer.put((byte) (state.accepted().isPresent() ? 1 : 0));
    state.accepted().ifPresent(proposal -> {
      put(buffer, proposal.ballot());
      buffer.put(record);
    });
    return buffer.array();
  }

  /** @throws CorruptRecordException when {@code bytes} is not a Paxos state of this format */
  static PaxosState decode(String key, byte[] bytes) {
    if (bytes.length < HEADER_BYTES || bytes[0] != FORMAT) {
      throw new CorruptRecordException(key, "Paxos state of key [" + key + "] has an unknown format");
    }
    try {
      ByteBuffer buffer = ByteBuffer.wrap(bytes);
      buffer.get();
      Version promised = get(buffer);
      Version committed = get(buffer);
      byte hasProposal = buffer.get();
      Optional<Proposal> accepted = Optional.empty();
      if (hasProposal == 1) {
        Version ballot = get(buffer);
        Record record = RecordCodec.decode(key, Arrays.copyOfRange(bytes, HEADER_BYTES + 16, bytes.length));
        accepted = Optional.of(new Proposal(ballot, record));
      } else if (hasProposal != 0 || bytes.length != HEADER_BYTES) {
        throw new IllegalArgumentException("malformed");
      }
      return new PaxosState(promised, accepted, committed);
    } catch (RuntimeException e) {
      throw new CorruptRecordException(key, "Paxos state of key [" + key + "] is corrupt: " + e.getMessage());
    }
  }

  private static void put(ByteBuffer buffer, Version version) {
    buffer.putLong(version.hlc()).putLong(version.replicaId());
  }

  private static Version get(ByteBuffer buffer) {
    return new Version(buffer.getLong(), buffer.getLong());
  }
}
