package io.quorumkv.http;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Scheduler;
import akka.actor.typed.javadsl.AskPattern;
import akka.http.javadsl.model.StatusCodes;
import io.quorumkv.config.Settings;
import io.quorumkv.membership.Identity;
import io.quorumkv.membership.KnownPeerIds;
import io.quorumkv.store.ReplicaProtocol.Answer;
import io.quorumkv.store.ReplicaProtocol.Call;
import io.quorumkv.store.ReplicaProtocol.Capabilities;
import io.quorumkv.store.ReplicaProtocol.CapabilitiesHeld;
import io.quorumkv.store.ReplicaProtocol.KeyRequest;
import io.quorumkv.store.ReplicaProtocol.MembershipRequest;
import io.quorumkv.store.ReplicaProtocol.Ping;
import io.quorumkv.store.ReplicaProtocol.PingReply;
import io.quorumkv.store.ReplicaProtocol.Reply;
import io.quorumkv.store.ReplicaProtocol.Request;
import io.quorumkv.store.ReplicaProtocol.Stamped;
import io.quorumkv.store.ReplicaProtocol.StoreRequest;
import io.quorumkv.store.ReplicaProtocol.TimeCall;
import io.quorumkv.store.ReplicaProtocol.Unavailable;
import io.quorumkv.store.StoreActor;
import io.quorumkv.store.StoreAdmission;
import io.quorumkv.version.ClockFence;
import io.quorumkv.version.HybridLogicalClock;
import io.quorumkv.wire.WireCodec;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Answers one decoded replica-protocol request from a peer, whichever transport carried it: an
 * HTTP call ({@link InternalRoutes}) or a frame of the peer's replication stream
 * ({@link ReplicationStreamRoute}), so both validate and answer alike. Store requests go to the
 * local StoreActor, behind its admission bound; membership requests are answered here. Nothing
 * here is per message type beyond that split: a new store request needs no change.
 *
 * <p>The returned stage never fails: a store that does not answer in time is a 503 outcome.
 */
final class InternalEndpoint {

  /** The outcome of one request: an answer, or a refusal with an HTTP status. */
  sealed interface Outcome {}

  record Answered(Answer answer) implements Outcome {}

  /** {@code details} are name/value pairs for the JSON error body of the HTTP transport. */
  record Refused(int status, String reason, Object... details) implements Outcome {}

  private final ActorRef<StoreActor.Command> store;
  private final StoreAdmission admission;
  private final Scheduler scheduler;
  private final Settings settings;
  private final HybridLogicalClock clock;
  private final ClockFence fence;
  private final long replicaId;
  private final KnownPeerIds knownPeerIds;
  private final Identity identity;

  InternalEndpoint(
      ActorRef<StoreActor.Command> store, StoreAdmission admission, Scheduler scheduler, Settings settings,
      HybridLogicalClock clock, ClockFence fence, long replicaId, KnownPeerIds knownPeerIds, Identity identity) {
    this.store = store;
    this.admission = admission;
    this.scheduler = scheduler;
    this.settings = settings;
    this.clock = clock;
    this.fence = fence;
    this.replicaId = replicaId;
    this.knownPeerIds = knownPeerIds;
    this.identity = identity;
  }

  /** Bytes a request may take: the largest value and its envelope. */
  int requestBytesMax() {
    return WireCodec.messageBytesMax(settings.valueBytesMax());
  }

  /** Decodes {@code body} and answers it; a body that is not one well-formed request is a 400. */
  CompletionStage<Outcome> handle(byte[] body, Sender from) {
    Request request;
    try {
      request = WireCodec.decode(body, Request.class);
    } catch (WireCodec.MalformedMessage e) {
      return refused(StatusCodes.BAD_REQUEST.intValue(), "malformed internal request: " + e.getMessage());
    }
    return handle(request, from);
  }

  /** @param from who sent it */
  CompletionStage<Outcome> handle(Request request, Sender from) {
    if (request instanceof MembershipRequest membership) {
      // Answered while fenced: ping and time are how the fence lifts.
      return CompletableFuture.completedFuture(new Answered(answer(membership, from)));
    }
    if (!(request instanceof StoreRequest storeRequest)) {
      throw new IllegalStateException("no handler for " + request.getClass().getName());
    }
    Optional<String> fenced = fence.reason();
    if (fenced.isPresent()) {
      // A fenced replica answers nothing stamped with its clock (docs/clock-discipline.md, rule 3).
      return refused(StatusCodes.SERVICE_UNAVAILABLE.intValue(), fenced.get(), "phase", "clock");
    }
    if (storeRequest instanceof KeyRequest keyed) {
      Optional<String> problem = Keys.problem(keyed.key(), settings.keyBytesMax());
      if (problem.isPresent()) {
        return refused(StatusCodes.BAD_REQUEST.intValue(), "malformed internal request: " + problem.get());
      }
    }
    if (storeRequest instanceof io.quorumkv.store.ReplicaProtocol.ListPage page) {
      Optional<String> problem = Keys.listingProblem(page.prefix(), page.start(), settings.keyBytesMax());
      if (problem.isEmpty() && page.values()) {
        problem = Optional.of("a peer never asks for values: a page of them would not fit a stream frame");
      }
      if (problem.isPresent()) {
        return refused(StatusCodes.BAD_REQUEST.intValue(), "malformed internal request: " + problem.get());
      }
    }
    Optional<io.quorumkv.store.Record> carried = StoreAdmission.recordOf(storeRequest);
    if (carried.isPresent() && !carried.get().isTombstone()
        && carried.get().value().length() > settings.valueBytesMax()) {
      return refused(StatusCodes.PAYLOAD_TOO_LARGE.intValue(), "the value is too large",
          "valueBytes", carried.get().value().length(), "limitBytes", settings.valueBytesMax());
    }
    // Checked before anything is observed or applied (docs/clock-discipline.md, rule 1).
    Optional<Refused> refusal = ClockCheck.refusal(clock, from.description(), WireCodec.typeName(request.getClass()),
        storeRequest.stamp().replicaId(), storeRequest.clockReadings());
    if (refusal.isPresent()) {
      return CompletableFuture.completedFuture(refusal.get());
    }
    return ask(storeRequest);
  }

  private Answer answer(MembershipRequest request, Sender from) {
    if (request instanceof Ping) {
      return new PingReply(settings.nodeId(), replicaId, clock.peek(), knownPeerIds.snapshot());
    }
    if (request instanceof Capabilities) {
      return new CapabilitiesHeld(Capabilities.OF_THIS_BUILD);
    }
    if (request instanceof TimeCall call) {
      return identity.answer(call, from.isPeer(), clock.wallMillis());
    }
    throw new IllegalStateException("no handler for " + request.getClass().getName());
  }

  /** Asks the store, within its admission bound: beyond it, a 503 at once (the peer sees an unavailable replica). */
  private CompletionStage<Outcome> ask(StoreRequest request) {
    long weight = StoreAdmission.weightOf(request);
    if (!admission.tryAdmit(weight)) {
      return refused(StatusCodes.SERVICE_UNAVAILABLE.intValue(), admission.refusal().reason());
    }
    return AskPattern.<StoreActor.Command, Reply>ask(store,
            replyTo -> new StoreActor.AdmittedCall(new Call(request, 0, replyTo), weight),
            settings.peerRequestTimeout(), scheduler)
        .handle((reply, failure) -> {
          if (failure != null) {
            return new Refused(StatusCodes.SERVICE_UNAVAILABLE.intValue(), "the store did not answer in time");
          }
          if (reply.answer() instanceof Unavailable unavailable) {
            return new Refused(StatusCodes.SERVICE_UNAVAILABLE.intValue(), unavailable.reason());
          }
          if (!(reply.answer() instanceof Stamped)) { // a store answers nothing else: a defect here
            return new Refused(StatusCodes.INTERNAL_SERVER_ERROR.intValue(),
                "the store answered a " + WireCodec.typeName(reply.answer().getClass()));
          }
          return new Answered(reply.answer());
        });
  }

  private static CompletionStage<Outcome> refused(int status, String reason, Object... details) {
    return CompletableFuture.completedFuture(new Refused(status, reason, details));
  }
}
