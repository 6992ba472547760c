package io.quorumkv.store;

import io.quorumkv.version.Version;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Optional;

/**
 * The on-disk form of a {@link PaxosState} (entries under {@code paxos/} in the metadata family):
 * a format byte, the promise and the committed ballot (hlc, replica id, 8 bytes each,
 * big-endian), a byte saying what proposal follows ({@link #NO_PROPOSAL}, {@link #PROPOSAL},
 * {@link #FAST_PROPOSAL}, {@link #EMPTY_PROPOSAL}), then its ballot and, unless it is empty, its
 * record in {@link RecordCodec}'s form. The fast and empty kinds came with the fast round; entries
 * written before it (kinds 0 and 1 only) read as they are.
 */
final class PaxosCodec {

  static final byte FORMAT = 1;
  private static final int HEADER_BYTES = 1 + 16 + 16 + 1;
  static final byte NO_PROPOSAL = 0;
  static final byte PROPOSAL = 1;
  static final byte FAST_PROPOSAL = 2;
  static final byte EMPTY_PROPOSAL = 3;

  private PaxosCodec() {}

  static byte[] encode(PaxosState state) {
    byte[] record = state.accepted().flatMap(Proposal::record).map(RecordCodec::encode).orElse(new byte[0]);
    ByteBuffer buffer = ByteBuffer.allocate(HEADER_BYTES + (state.accepted().isPresent() ? 16 + record.length : 0));
    buffer.put(FORMAT);
    put(buffer, state.promised());
    put(buffer, state.committed());
    buffer.put(state.accepted().map(PaxosCodec::kindOf).orElse(NO_PROPOSAL));
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
      if (hasProposal == PROPOSAL || hasProposal == FAST_PROPOSAL) {
        Version ballot = get(buffer);
        Record record = RecordCodec.decode(key, Arrays.copyOfRange(bytes, HEADER_BYTES + 16, bytes.length));
        accepted = Optional.of(new Proposal(ballot, Optional.of(record), hasProposal == FAST_PROPOSAL));
      } else if (hasProposal == EMPTY_PROPOSAL && bytes.length == HEADER_BYTES + 16) {
        accepted = Optional.of(Proposal.empty(get(buffer)));
      } else if (hasProposal != NO_PROPOSAL || bytes.length != HEADER_BYTES) {
        throw new IllegalArgumentException("malformed");
      }
      return new PaxosState(promised, accepted, committed);
    } catch (RuntimeException e) {
      throw new CorruptRecordException(key, "Paxos state of key [" + key + "] is corrupt: " + e.getMessage());
    }
  }

  private static byte kindOf(Proposal proposal) {
    return proposal.isEmpty() ? EMPTY_PROPOSAL : proposal.fast() ? FAST_PROPOSAL : PROPOSAL;
  }

  private static void put(ByteBuffer buffer, Version version) {
    buffer.putLong(version.hlc()).putLong(version.replicaId());
  }

  private static Version get(ByteBuffer buffer) {
    return new Version(buffer.getLong(), buffer.getLong());
  }
}
