package io.quorumkv.store;

import akka.actor.testkit.typed.javadsl.TestKitJunitResource;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import io.quorumkv.store.ReplicaProtocol.Answer;
import io.quorumkv.store.ReplicaProtocol.Apply;
import io.quorumkv.store.ReplicaProtocol.Call;
import io.quorumkv.store.ReplicaProtocol.KeyRequest;
import io.quorumkv.store.ReplicaProtocol.Reply;
import io.quorumkv.store.ReplicaProtocol.StoreRequest;
import java.time.Duration;

/** A TestProbe playing one replica: it receives {@link Call}s, and a test answers them as that replica. */
public final class CallProbe {

  private final TestProbe<Call> probe;
  private final String replica;

  /** @param replica the name its replies carry */
  public CallProbe(TestKitJunitResource testKit, String replica) {
    this.probe = testKit.createTestProbe();
    this.replica = replica;
  }

  public ActorRef<Call> getRef() {
    return probe.getRef();
  }

  public ReplicaHandle handle() {
    return new ReplicaHandle(replica, probe.getRef());
  }

  /** The next call, which must carry a {@code type}. */
  public <T extends StoreRequest> Received<T> expectMessageClass(Class<T> type) {
    Call call = probe.expectMessageClass(Call.class);
    if (!type.isInstance(call.request())) {
      throw new AssertionError("expected a " + type.getSimpleName() + ", got " + call.request());
    }
    return new Received<>(type.cast(call.request()), call, replica);
  }

  public void expectNoMessage(Duration max) {
    probe.expectNoMessage(max);
  }

  public <A> A awaitAssert(akka.japi.function.Creator<A> check) {
    return probe.awaitAssert(check);
  }

  /** A call received, and how to answer it. */
  public record Received<T extends StoreRequest>(T request, Call call, String replica) {
    public String key() {
      return ((KeyRequest) request).key();
    }

    public Record record() {
      return ((Apply) request).record();
    }

    /** Answers the call as this probe's replica, in the call's round. */
    public Replier replyTo() {
      return answer -> call.replyTo().tell(new Reply(replica, call.round(), answer));
    }
  }

  /** Sends one answer. */
  @FunctionalInterface
  public interface Replier {
    void tell(Answer answer);
  }
}
