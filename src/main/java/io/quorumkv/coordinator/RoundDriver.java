package io.quorumkv.coordinator;

import akka.actor.typed.ActorRef;
import io.quorumkv.store.ReplicaHandle;
import io.quorumkv.store.ReplicaProtocol.Call;
import io.quorumkv.store.ReplicaProtocol.Reply;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Carries out a round's effects for its coordinator actor: sends to the replicas by name, replies,
 * reports missed writes, starts the hedge timer. Not an actor; it holds no algorithm.
 */
final class RoundDriver<R> {

  private final Map<String, ReplicaHandle> replicas = new HashMap<>();
  private final ActorRef<Reply> answers;
  private final ActorRef<R> replyTo;
  private final MissedWrites missedWrites;
  private final Consumer<Duration> startHedgeTimer;
  private final Consumer<Duration> startBackoffTimer;

  RoundDriver(List<ReplicaHandle> replicas, ActorRef<Reply> answers, ActorRef<R> replyTo, MissedWrites missedWrites,
      Consumer<Duration> startHedgeTimer, Consumer<Duration> startBackoffTimer) {
    replicas.forEach(replica -> this.replicas.put(replica.name(), replica));
    this.answers = answers;
    this.replyTo = replyTo;
    this.missedWrites = missedWrites;
    this.startHedgeTimer = startHedgeTimer;
    this.startBackoffTimer = startBackoffTimer;
  }

  static RoundEvent eventOf(Reply reply) {
    return new RoundEvent.Answered(reply.replica(), reply.round(), reply.answer());
  }

  void execute(List<RoundEffect<R>> effects) {
    for (RoundEffect<R> effect : effects) {
      if (effect instanceof RoundEffect.Send<R> send) {
        ReplicaHandle replica = replicas.get(send.replica());
        if (replica == null) {
          throw new IllegalStateException("the round sent to an unknown replica " + send.replica());
        }
        replica.send(new Call(send.request(), send.round(), answers));
      } else if (effect instanceof RoundEffect.Reply<R> reply) {
        replyTo.tell(reply.result());
      } else if (effect instanceof RoundEffect.Unacknowledged<R> missed) {
        missedWrites.missed(missed.key(), missed.replicas());
      } else if (effect instanceof RoundEffect.StartHedgeTimer<R> hedge) {
        startHedgeTimer.accept(hedge.delay());
      } else if (effect instanceof RoundEffect.StartBackoffTimer<R> backoff) {
        startBackoffTimer.accept(backoff.delay());
      } else {
        throw new IllegalStateException("no way to carry out " + effect);
      }
    }
  }
}
