package io.quorumkv.replication;

import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import io.quorumkv.replication.InternalWire.KeyCall;
import io.quorumkv.replication.InternalWire.RecordReply;
import io.quorumkv.replication.InternalWire.VersionReply;
import io.quorumkv.store.ReplicaProtocol.Answer;
import io.quorumkv.store.ReplicaProtocol.Applied;
import io.quorumkv.store.ReplicaProtocol.Apply;
import io.quorumkv.store.ReplicaProtocol.Read;
import io.quorumkv.store.ReplicaProtocol.ReadVersion;
import io.quorumkv.store.ReplicaProtocol.RecordHeld;
import io.quorumkv.store.ReplicaProtocol.Request;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.ReplicaProtocol.Unavailable;
import io.quorumkv.store.ReplicaProtocol.VersionHeld;
import io.quorumkv.version.Version;
import java.io.IOException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * One peer replica, seen through the {@link io.quorumkv.store.ReplicaProtocol}: each request
 * becomes one call to the peer's internal endpoints ({@link PeerClient#keyCall}), and each call ends in exactly one
 * answer to the request's {@code replyTo}, an {@link Unavailable} when the call failed or
 * missed its deadline. Coordinators therefore treat local and remote replicas alike.
 *
 * <p>The actor holds no state: the client bounds the calls in flight, and the answer is
 * sent from the call's completion (telling an ActorRef is thread-safe).
 */
public final class RemoteReplica extends AbstractBehavior<Request> {

  private final PeerClient client;
  private final long ownReplicaId;

  public static Behavior<Request> create(PeerClient client, long ownReplicaId) {
    return Behaviors.setup(ctx -> new RemoteReplica(ctx, client, ownReplicaId));
  }

  private RemoteReplica(ActorContext<Request> ctx, PeerClient client, long ownReplicaId) {
    super(ctx);
    this.client = client;
    this.ownReplicaId = ownReplicaId;
  }

  @Override
  public Receive<Request> createReceive() {
    return newReceiveBuilder()
        .onMessage(ReadVersion.class, this::onReadVersion)
        .onMessage(Read.class, this::onRead)
        .onMessage(Apply.class, this::onApply)
        .build();
  }

  private Behavior<Request> onReadVersion(ReadVersion request) {
    KeyCall call = new KeyCall(request.key(), request.stamp().replicaId(), request.stamp().clock());
    forward(request, InternalWire.READ_VERSION_PATH, "", call, VersionReply.class,
        reply -> new VersionHeld(name(), stampOf(reply), versionOf(reply), reply.digest()));
    return this;
  }

  private Behavior<Request> onRead(Read request) {
    KeyCall call = new KeyCall(request.key(), request.stamp().replicaId(), request.stamp().clock());
    forward(request, InternalWire.READ_PATH, "", call, RecordReply.class,
        reply -> new RecordHeld(name(), new Stamp(reply.replicaId(), reply.clock()), InternalWire.recordOf(reply)));
    return this;
  }

  private Behavior<Request> onApply(Apply request) {
    forward(request, InternalWire.APPLY_PATH, request.cause().label(),
        InternalWire.applyCall(request.key(), request.record(), request.stamp()), VersionReply.class,
        reply -> new Applied(name(), stampOf(reply), versionOf(reply), reply.digest()));
    return this;
  }

  private <T> void forward(
      Request request, String endpoint, String cause, Object call, Class<T> replyType, Function<T, Answer> toAnswer) {
    CompletionStage<byte[]> response = client.keyCall(endpoint, cause, InternalWire.encode(call));
    response.whenComplete((bytes, failure) -> {
      Answer answer;
      if (failure != null) {
        answer = new Unavailable(name(), FailureReasons.describe(failure));
      } else {
        answer = decode(bytes, replyType, toAnswer);
      }
      request.replyTo().tell(answer);
    });
  }

  private <T> Answer decode(byte[] bytes, Class<T> replyType, Function<T, Answer> toAnswer) {
    try {
      Answer answer = toAnswer.apply(InternalWire.decode(bytes, replyType));
      if (answer instanceof VersionHeld held && held.stamp().replicaId() == ownReplicaId
          || answer instanceof Applied applied && applied.stamp().replicaId() == ownReplicaId
          || answer instanceof RecordHeld recordHeld && recordHeld.stamp().replicaId() == ownReplicaId) {
        return new Unavailable(name(), "peer answers with this replica's own replica id");
      }
      return answer;
    } catch (IOException | IllegalArgumentException e) {
      return new Unavailable(name(), "malformed answer: " + e.getMessage());
    }
  }

  private String name() {
    return client.peer().name();
  }

  private static Stamp stampOf(VersionReply reply) {
    return new Stamp(reply.replicaId(), reply.clock());
  }

  private static Version versionOf(VersionReply reply) {
    return new Version(reply.hlc(), reply.versionReplicaId());
  }
}
