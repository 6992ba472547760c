package io.quorumkv.http;

import static io.quorumkv.http.JsonResponses.error;
import static io.quorumkv.http.JsonResponses.json;

import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import io.quorumkv.config.Settings;
import io.quorumkv.membership.RetiredPeers;
import io.quorumkv.security.AccessAudit;
import io.quorumkv.security.NetworkAccess;
import io.quorumkv.security.Role;
import io.quorumkv.security.TokenFile;
import io.quorumkv.store.DataSnapshots;
import io.quorumkv.store.StorageFullException;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * Operator endpoints, answered only to loopback ({@link NetworkAccess}: run {@code kv} on the
 * replica's host), and with an {@code AUTH_TOKENS_FILE} only to an admin token as well. With a
 * cluster secret set, the secret header is required too. Each admin action is logged with its caller.
 * <ul>
 *   <li>{@code POST /admin/retire/{peer}} declares a peer permanently gone, so tombstones settle
 *       (and can be purged) without it; {@code DELETE} takes that back. Call it on every remaining
 *       replica.
 *   <li>{@code POST /admin/snapshot[?name=N]} takes a snapshot of this replica's data directory
 *       ({@link DataSnapshots}) and answers with its name, path and size.
 * </ul>
 */
public final class AdminRoutes extends AllDirectives {

  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");

  private final Settings settings;
  private final RetiredPeers retired;
  private final Optional<Function<String, DataSnapshots.Taken>> snapshots;
  private final Executor blocking;
  private final NetworkAccess access;
  private final AccessAudit audit;
  private final Optional<TokenFile> tokens;
  /** One snapshot at a time: each pins the store's files and costs a flush; a second waits for none. */
  private final java.util.concurrent.atomic.AtomicBoolean snapshotting = new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * @param snapshots takes a named snapshot (empty for the memory engine, which has nothing to copy)
   * @param blocking where a snapshot's file work runs, off the HTTP threads
   */
  public AdminRoutes(
      Settings settings, RetiredPeers retired, Optional<Function<String, DataSnapshots.Taken>> snapshots,
      Executor blocking, NetworkAccess access, AccessAudit audit, Optional<TokenFile> tokens) {
    this.settings = settings;
    this.tokens = tokens;
    this.access = access;
    this.audit = audit;
    this.retired = retired;
    this.snapshots = snapshots;
    this.blocking = blocking;
  }

  public Route routes() {
    return pathPrefix("admin", () -> allowed(caller -> ClusterSecret.required(settings.clusterSecret(), () -> concat(
        path(PathMatchers.segment("retire").slash(PathMatchers.segment()), peer -> retire(peer, caller)),
        path("snapshot", () -> post(() -> parameterOptional("name", name -> snapshot(name, caller))))))));
  }

  /**
   * Loopback only, as without tokens; with tokens, an admin token as well. Until TLS exists a
   * token travels in clear, so a token alone from any address would let whoever overheard one
   * retire a live peer.
   */
  private Route allowed(Function<String, Route> inner) {
    return AccessCheck.admin(access, audit, () -> tokens.isPresent()
        ? AuthCheck.require(tokens, Role.ADMIN, audit, "an admin call", inner)
        : inner.apply("a local caller"));
  }

  private Route retire(String peer, String caller) {
    if (settings.peers().stream().noneMatch(address -> address.name().equals(peer))) {
      return complete(error(StatusCodes.NOT_FOUND, "no peer named " + peer));
    }
    return concat(
        post(() -> {
          audit.admin(caller, "retire " + peer);
          retired.retire(peer);
          return complete(json(StatusCodes.OK, Map.of("peer", peer, "retired", true)));
        }),
        delete(() -> {
          audit.admin(caller, "reinstate " + peer);
          retired.reinstate(peer);
          return complete(json(StatusCodes.OK, Map.of("peer", peer, "retired", false)));
        }));
  }

  private Route snapshot(Optional<String> requested, String caller) {
    if (snapshots.isEmpty()) {
      return complete(error(StatusCodes.CONFLICT, "this replica keeps its data in memory: there is nothing to snapshot"));
    }
    // The default name sorts by time and names the replica, so the three replicas' snapshots can share a directory.
    String name = requested.orElseGet(() -> settings.nodeId() + "-" + ZonedDateTime.now(ZoneOffset.UTC).format(STAMP));
    if (!DataSnapshots.validName(name)) {
      return complete(error(StatusCodes.BAD_REQUEST, "a snapshot name is 1-100 letters, digits, '.', '_' or '-',"
          + " starting with a letter or digit"));
    }
    audit.admin(caller, "snapshot " + name);
    if (!snapshotting.compareAndSet(false, true)) {
      return complete(error(StatusCodes.CONFLICT, "a snapshot is being taken on this replica; try again when it is done"));
    }
    CompletableFuture<HttpResponse> answer;
    try {
      answer = CompletableFuture.supplyAsync(() -> taken(name), blocking)
          .whenComplete((response, failure) -> snapshotting.set(false));
    } catch (RuntimeException rejected) { // the executor refused the task
      snapshotting.set(false);
      throw rejected;
    }
    return onSuccess(answer, this::complete);
  }

  private HttpResponse taken(String name) {
    try {
      DataSnapshots.Taken taken = snapshots.get().apply(name);
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("name", taken.name());
      body.put("path", taken.path().toAbsolutePath().toString());
      body.put("bytes", taken.bytes());
      body.put("node", settings.nodeId());
      body.put("createdAt", taken.createdAt().toString());
      return json(StatusCodes.OK, body);
    } catch (DataSnapshots.Refused refused) {
      return error(refused.clientError() ? StatusCodes.CONFLICT : StatusCodes.SERVICE_UNAVAILABLE, refused.getMessage());
    } catch (StorageFullException full) {
      return error(StatusCodes.SERVICE_UNAVAILABLE, "storage full: " + full.getMessage(), "phase", "storage");
    } catch (IllegalStateException failed) {
      return error(StatusCodes.SERVICE_UNAVAILABLE, "snapshot failed: " + failed.getMessage());
    }
  }
}
