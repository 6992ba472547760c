package io.quorumkv.http;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Scheduler;
import akka.actor.typed.javadsl.AskPattern;
import akka.http.javadsl.model.StatusCodes;
import io.quorumkv.config.Settings;
import io.quorumkv.replication.InternalWire;
import io.quorumkv.replication.InternalWire.ApplyCall;
import io.quorumkv.replication.InternalWire.KeyCall;
import io.quorumkv.replication.InternalWire.VersionReply;
import io.quorumkv.store.Record;
import io.quorumkv.store.ReplicaProtocol;
import io.quorumkv.store.ReplicaProtocol.Answer;
import io.quorumkv.store.ReplicaProtocol.Applied;
import io.quorumkv.store.ReplicaProtocol.RecordHeld;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.ReplicaProtocol.Unavailable;
import io.quorumkv.store.ReplicaProtocol.VersionHeld;
import io.quorumkv.store.StoreActor;
import io.quorumkv.store.StoreAdmission;
import io.quorumkv.version.ClockFence;
import io.quorumkv.version.HybridLogicalClock;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * Answers the per-key replica-to-replica calls ({@code read-version}, {@code read},
 * {@code apply}) from the local StoreActor, whichever transport carried them: an HTTP request
 * ({@link InternalRoutes}) or a frame of a peer's replication stream ({@link ReplicationStreamRoute}).
 * Both therefore validate and answer alike. The returned stage never fails: a store that does not
 * answer in time becomes a 503 outcome.
 */
final class InternalCalls {

  /** The outcome of one call: a CBOR answer, or a refusal with an HTTP status. */
  sealed interface Outcome {}

  record Answered(byte[] cbor) implements Outcome {}

  /** {@code details} are name/value pairs for the JSON error body of the HTTP transport. */
  record Refused(int status, String reason, Object... details) implements Outcome {}

  private final ActorRef<StoreActor.Command> store;
  private final Scheduler scheduler;
  private final Settings settings;
  private final HybridLogicalClock clock;
  private final ClockFence fence;
  private final StoreAdmission admission;

  InternalCalls(
      ActorRef<StoreActor.Command> store, StoreAdmission admission, Scheduler scheduler, Settings settings,
      HybridLogicalClock clock, ClockFence fence) {
    this.fence = fence;
    this.admission = admission;
    this.store = store;
    this.scheduler = scheduler;
    this.settings = settings;
    this.clock = clock;
  }

  /** True for the endpoints {@link #handle} answers. */
  static boolean handles(String endpoint) {
    return endpoint.equals(InternalWire.READ_VERSION_PATH) || endpoint.equals(InternalWire.READ_PATH)
        || endpoint.equals(InternalWire.APPLY_PATH);
  }

  /**
   * @param cause the {@code apply} cause label (empty when absent); ignored by the reads
   * @param from who sent it
   */
  CompletionStage<Outcome> handle(String endpoint, String cause, byte[] body, Sender from) {
    Optional<String> fenced = fence.reason();
    if (fenced.isPresent()) {
      // A fenced replica answers nothing stamped with its clock (docs/clock-discipline.md, rule 3).
      return refused(StatusCodes.SERVICE_UNAVAILABLE.intValue(), fenced.get());
    }
    return switch (endpoint) {
      case InternalWire.READ_VERSION_PATH -> withCall(body, KeyCall.class, from, call -> readVersion(call));
      case InternalWire.READ_PATH -> withCall(body, KeyCall.class, from, call -> read(call));
      case InternalWire.APPLY_PATH ->
          withCall(body, ApplyCall.class, from, call -> apply(call, ReplicaProtocol.Cause.parse(cause)));
      default -> CompletableFuture.completedFuture(new Refused(StatusCodes.NOT_FOUND.intValue(), "no internal endpoint " + endpoint));
    };
  }

  private CompletionStage<Outcome> readVersion(KeyCall call) {
    return ask(call.key(), 0, replyTo -> new ReplicaProtocol.ReadVersion(call.key(), stampOf(call), replyTo), answer -> {
      VersionHeld held = (VersionHeld) answer;
      return new VersionReply(held.version().hlc(), held.version().replicaId(), held.digest(),
          held.stamp().replicaId(), held.stamp().clock());
    });
  }

  private CompletionStage<Outcome> read(KeyCall call) {
    return ask(call.key(), 0, replyTo -> new ReplicaProtocol.Read(call.key(), stampOf(call), replyTo),
        answer -> InternalWire.recordReply(((RecordHeld) answer).record(), ((RecordHeld) answer).stamp()));
  }

  private CompletionStage<Outcome> apply(ApplyCall call, ReplicaProtocol.Cause cause) {
    Record record;
    try {
      record = InternalWire.recordOf(call);
    } catch (IllegalArgumentException e) {
      return refused(StatusCodes.BAD_REQUEST.intValue(), "malformed internal request: " + e.getMessage());
    }
    if (!record.isTombstone() && record.value().length() > settings.valueBytesMax()) {
      return CompletableFuture.completedFuture(new Refused(StatusCodes.PAYLOAD_TOO_LARGE.intValue(),
          "the value is too large", "valueBytes", record.value().length(), "limitBytes", settings.valueBytesMax()));
    }
    Stamp sender = new Stamp(call.senderReplicaId(), call.senderClock());
    int valueBytes = record.isTombstone() ? 0 : record.value().length();
    return ask(call.key(), valueBytes, replyTo -> new ReplicaProtocol.Apply(call.key(), record, sender, replyTo, cause),
        answer -> {
      Applied applied = (Applied) answer;
      return new VersionReply(applied.version().hlc(), applied.version().replicaId(), applied.digest(),
          applied.stamp().replicaId(), applied.stamp().clock());
    });
  }

  private interface KeyedCall<T> {
    CompletionStage<Outcome> answer(T call);
  }

  private <T> CompletionStage<Outcome> withCall(byte[] body, Class<T> type, Sender from, KeyedCall<T> inner) {
    T call;
    try {
      call = InternalWire.decode(body, type);
    } catch (IOException e) {
      return refused(StatusCodes.BAD_REQUEST.intValue(), "malformed internal request: " + firstLine(e.getMessage()));
    }
    String key = call instanceof KeyCall keyCall ? keyCall.key() : ((ApplyCall) call).key();
    Optional<String> problem = Keys.problem(key, settings.keyBytesMax());
    if (problem.isPresent()) {
      return refused(StatusCodes.BAD_REQUEST.intValue(), "malformed internal request: " + problem.get());
    }
    if (call instanceof ApplyCall apply) {
      try {
        InternalWire.recordOf(apply); // malformed before judged by its clock
      } catch (IllegalArgumentException e) {
        return refused(StatusCodes.BAD_REQUEST.intValue(), "malformed internal request: " + e.getMessage());
      }
    }
    // Checked before anything is observed or applied (docs/clock-discipline.md, rule 1).
    long[] readings = call instanceof KeyCall keyCall
        ? new long[] {keyCall.senderClock()}
        : new long[] {((ApplyCall) call).senderClock(), ((ApplyCall) call).hlc()};
    Optional<Refused> refusal = ClockCheck.refusal(clock, from.description(), type.getSimpleName(), senderOf(call),
        readings);
    if (refusal.isPresent()) {
      return CompletableFuture.completedFuture(refusal.get());
    }
    return inner.answer(call);
  }

  /** Asks the store, within its admission bound: beyond it, a 503 at once (the peer sees an unavailable replica). */
  private CompletionStage<Outcome> ask(
      String key, int valueBytes, Function<ActorRef<Answer>, ReplicaProtocol.Request> request,
      Function<Answer, Object> toReply) {
    long weight = StoreAdmission.weightOf(key, valueBytes);
    if (!admission.tryAdmit(weight)) {
      return refused(StatusCodes.SERVICE_UNAVAILABLE.intValue(), admission.refusal(settings.nodeId()).reason());
    }
    return AskPattern.<StoreActor.Command, Answer>ask(store,
            replyTo -> new StoreActor.AdmittedRequest(request.apply(replyTo), weight),
            settings.peerRequestTimeout(), scheduler)
        .handle((answer, failure) -> {
          if (failure != null) {
            return new Refused(StatusCodes.SERVICE_UNAVAILABLE.intValue(), "the store did not answer in time");
          }
          if (answer instanceof Unavailable unavailable) {
            return new Refused(StatusCodes.SERVICE_UNAVAILABLE.intValue(), unavailable.reason());
          }
          return new Answered(InternalWire.encode(toReply.apply(answer)));
        });
  }

  private static CompletionStage<Outcome> refused(int status, String reason) {
    return CompletableFuture.completedFuture(new Refused(status, reason));
  }

  private static long senderOf(Object call) {
    return call instanceof KeyCall keyCall ? keyCall.senderReplicaId() : ((ApplyCall) call).senderReplicaId();
  }

  private static Stamp stampOf(KeyCall call) {
    return new Stamp(call.senderReplicaId(), call.senderClock());
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "unreadable body";
    }
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }
}
