package io.quorumkv.store;

import akka.actor.testkit.typed.javadsl.TestKitJunitResource;
import akka.actor.testkit.typed.javadsl.TestProbe;
import io.quorumkv.store.ReplicaProtocol.Answer;
import io.quorumkv.store.ReplicaProtocol.Call;
import io.quorumkv.store.ReplicaProtocol.Reply;
import io.quorumkv.store.ReplicaProtocol.StoreRequest;
import java.time.Duration;

/** A TestProbe for the {@link Reply}s of the calls it makes, unwrapped to their answers. */
public final class ReplyProbe {

  private final TestProbe<Reply> probe;

  public ReplyProbe(TestKitJunitResource testKit) {
    this.probe = testKit.createTestProbe();
  }

  /** {@code request} as a call whose reply comes to this probe. */
  public Call call(StoreRequest request) {
    return new Call(request, 0, probe.getRef());
  }

  public <T extends Answer> T expectMessageClass(Class<T> type) {
    return type.cast(answerOf(probe.expectMessageClass(Reply.class), type));
  }

  public <T extends Answer> T expectMessageClass(Class<T> type, Duration max) {
    return type.cast(answerOf(probe.expectMessageClass(Reply.class, max), type));
  }

  /** The next {@code count} replies' answers, in arrival order. */
  public java.util.List<Answer> receiveSeveralMessages(int count) {
    return probe.receiveSeveralMessages(count).stream().map(Reply::answer).toList();
  }

  /** The next reply, whole (its replica name and round too). */
  public Reply receiveReply() {
    return probe.receiveMessage();
  }

  public Answer receiveMessage() {
    return probe.receiveMessage().answer();
  }

  public void expectNoMessage(Duration max) {
    probe.expectNoMessage(max);
  }

  public void expectNoMessage() {
    probe.expectNoMessage();
  }

  public <T> T awaitAssert(akka.japi.function.Creator<T> check) {
    return probe.awaitAssert(check);
  }

  public TestProbe<Reply> probe() {
    return probe;
  }

  private static Answer answerOf(Reply reply, Class<?> type) {
    if (!type.isInstance(reply.answer())) {
      throw new AssertionError("expected a " + type.getSimpleName() + ", got " + reply.answer());
    }
    return reply.answer();
  }
}
