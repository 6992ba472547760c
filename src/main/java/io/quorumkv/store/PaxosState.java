package io.quorumkv.store;

import io.quorumkv.version.Version;
import java.util.Objects;
import java.util.Optional;

/**
 * What one replica keeps, durably and beside the key's record, for the conditional writes of a
 * key (docs/conditional-writes.md, "State per key"): the highest ballot it promised, the proposal
 * it accepted and has not seen committed, and the highest ballot it saw committed. A key never
 * written conditionally (nor fenced) has none: {@link #NONE}.
 *
 * @param promised the promise {@code P}: no record from outside Paxos below it is taken
 * @param committed the committed ballot {@code K}: no plain write's apply below it is taken
 */
public record PaxosState(Version promised, Optional<Proposal> accepted, Version committed) {

  public static final PaxosState NONE = new PaxosState(Version.ZERO, Optional.empty(), Version.ZERO);

  public PaxosState {
    Objects.requireNonNull(promised, "promised");
    Objects.requireNonNull(committed, "committed");
    accepted = accepted == null ? Optional.empty() : accepted;
  }

  public boolean isNone() {
    return equals(NONE);
  }

  /** The ballot of the accepted proposal, {@link Version#ZERO} when none. */
  public Version acceptedBallot() {
    return accepted.map(Proposal::ballot).orElse(Version.ZERO);
  }

  /** The highest ballot this state names: a new ballot must exceed it. */
  public Version highest() {
    return Version.max(promised, Version.max(acceptedBallot(), committed));
  }

  public PaxosState withPromise(Version ballot) {
    return new PaxosState(Version.max(promised, ballot), accepted, committed);
  }

  public PaxosState withAccepted(Proposal proposal) {
    return new PaxosState(Version.max(promised, proposal.ballot()), Optional.of(proposal), committed);
  }

  /** A commit at {@code ballot}: {@code K} moves up, and a proposal at or below it is settled. */
  public PaxosState withCommit(Version ballot) {
    Optional<Proposal> left = accepted.filter(proposal -> proposal.ballot().isAfter(ballot));
    return new PaxosState(promised, left, Version.max(committed, ballot));
  }
}
