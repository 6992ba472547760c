package io.quorumkv.client;

import akka.actor.typed.ActorSystem;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * One request, sent to a list of replicas in order until one answers (any replica coordinates
 * any request). When to move on is the whole point:
 * <ul>
 *   <li>a read moves on after any failure another replica may not share (unreachable, timed
 *       out, unavailable): reading again changes nothing;
 *   <li>a write moves on only when this replica certainly did not apply it: the connection was
 *       refused before anything was sent, or it answered {@code "outcome":"not-applied"}. After
 *       an indeterminate failure it stops and reports it: sending the write again elsewhere
 *       could apply it twice, after a later write.
 * </ul>
 * A refusal (4xx) never moves on: every replica would refuse it the same way.
 */
public final class FailoverClient {

  private final List<KvClient> clients;

  /** The answer and the replica that gave it. */
  public record Answered<T>(NodeAddress endpoint, T value) {}

  public FailoverClient(
      ActorSystem<?> system, List<NodeAddress> endpoints, Duration timeout, Credentials credentials) {
    if (endpoints.isEmpty()) {
      throw new IllegalArgumentException("no endpoints");
    }
    this.clients = endpoints.stream().map(endpoint -> new KvClient(system, endpoint, timeout, credentials)).toList();
  }

  /** A read (or any call that changes nothing), failing over after any failure but a refusal. */
  public <T> CompletionStage<Answered<T>> read(Function<KvClient, CompletionStage<T>> call) {
    return attempt(0, call, FailoverClient::worthAnotherReplica);
  }

  /** A write, failing over only when this replica certainly did not apply it. */
  public <T> CompletionStage<Answered<T>> write(Function<KvClient, CompletionStage<T>> call) {
    return attempt(0, call, failure -> worthAnotherReplica(failure) && !failure.mayHaveBeenApplied());
  }

  static boolean worthAnotherReplica(KvException failure) {
    // A refusal or a false condition would be the same on every replica.
    return !(failure instanceof KvException.Rejected) && !(failure instanceof KvException.PreconditionFailed);
  }

  private <T> CompletionStage<Answered<T>> attempt(
      int index, Function<KvClient, CompletionStage<T>> call, Predicate<KvException> moveOn) {
    KvClient client = clients.get(index);
    return call.apply(client).handle((value, failure) -> {
      if (failure == null) {
        return CompletableFuture.completedFuture(new Answered<>(client.node(), value));
      }
      Throwable cause = failure instanceof CompletionException && failure.getCause() != null
          ? failure.getCause() : failure;
      if (cause instanceof KvException known && index + 1 < clients.size() && moveOn.test(known)) {
        return attempt(index + 1, call, moveOn);
      }
      return CompletableFuture.<Answered<T>>failedFuture(cause);
    }).thenCompose(next -> next);
  }
}
