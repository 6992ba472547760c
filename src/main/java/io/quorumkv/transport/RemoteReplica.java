package io.quorumkv.transport;

import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import io.quorumkv.store.ReplicaProtocol.Answer;
import io.quorumkv.store.ReplicaProtocol.Call;
import io.quorumkv.store.ReplicaProtocol.Reply;
import io.quorumkv.store.ReplicaProtocol.Stamped;
import io.quorumkv.store.ReplicaProtocol.Unavailable;

/**
 * One peer replica, as its asker sees a local one: each {@link Call} becomes one request to the
 * peer ({@link PeerClient#call}), whatever the request is, and ends in exactly one {@link Reply}
 * to the call's {@code replyTo}, tagged with the call's round; an {@link Unavailable} when the
 * call failed or missed its deadline. Coordinators therefore treat local and remote replicas
 * alike.
 *
 * <p>The actor holds no state: the client bounds the calls in flight, and the reply is sent
 * from the call's completion (telling an ActorRef is thread-safe).
 */
public final class RemoteReplica extends AbstractBehavior<Call> {

  private final PeerClient client;
  private final long ownReplicaId;

  public static Behavior<Call> create(PeerClient client, long ownReplicaId) {
    return Behaviors.setup(ctx -> new RemoteReplica(ctx, client, ownReplicaId));
  }

  private RemoteReplica(ActorContext<Call> ctx, PeerClient client, long ownReplicaId) {
    super(ctx);
    this.client = client;
    this.ownReplicaId = ownReplicaId;
  }

  @Override
  public Receive<Call> createReceive() {
    return newReceiveBuilder().onMessage(Call.class, this::onCall).build();
  }

  private Behavior<Call> onCall(Call call) {
    String name = client.peer().name();
    client.call(call.request()).whenComplete((answer, failure) -> {
      Answer checked = failure != null ? new Unavailable(FailureReasons.describe(failure)) : checked(answer);
      call.replyTo().tell(new Reply(name, call.round(), checked));
    });
    return this;
  }

  /** A peer that stamps its answer with this replica's own id is confused or lying: not an answer. */
  private Answer checked(Answer answer) {
    if (answer instanceof Stamped stamped && stamped.stamp().replicaId() == ownReplicaId) {
      return new Unavailable("peer answers with this replica's own replica id");
    }
    return answer;
  }
}
