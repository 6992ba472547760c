package io.quorumkv.coordinator;

/**
 * Whether a key's Paxos state may be forgotten, as pure code (docs/conditional-writes.md,
 * "Bounded state"): every replica of the key must say it holds no proposal. One that says it
 * does, that cannot tell (not ready), or that does not answer in time keeps the state: a proposal
 * left anywhere could otherwise be adopted by a later round as if nothing had been committed.
 */
public final class ForgetCheck {

  public enum Decision { WAITING, FORGET, KEEP }

  private final int replicas;
  private int clear;
  private boolean kept;

  public ForgetCheck(int replicas) {
    this.replicas = replicas;
  }

  /** One replica's answer: whether it holds a proposal (or could not say). */
  public Decision answered(boolean holdsProposal) {
    if (kept) {
      return Decision.KEEP;
    }
    if (holdsProposal) {
      kept = true;
      return Decision.KEEP;
    }
    clear++;
    return clear == replicas ? Decision.FORGET : Decision.WAITING;
  }
}
