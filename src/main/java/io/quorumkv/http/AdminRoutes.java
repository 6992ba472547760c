package io.quorumkv.http;

import static io.quorumkv.http.JsonResponses.error;
import static io.quorumkv.http.JsonResponses.json;

import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import io.quorumkv.config.Settings;
import io.quorumkv.membership.RetiredPeers;
import java.util.Map;

/**
 * Operator endpoints. {@code POST /admin/retire/{peer}} declares a peer permanently gone, so
 * tombstones settle (and can be purged) without it; {@code DELETE} takes that back. Call it on
 * every remaining replica. With a cluster secret set, the secret header is required.
 */
public final class AdminRoutes extends AllDirectives {

  private final Settings settings;
  private final RetiredPeers retired;

  public AdminRoutes(Settings settings, RetiredPeers retired) {
    this.settings = settings;
    this.retired = retired;
  }

  public Route routes() {
    return pathPrefix("admin", () -> path(PathMatchers.segment("retire").slash(PathMatchers.segment()), peer ->
        ClusterSecret.required(settings.clusterSecret(), () -> {
          if (settings.peers().stream().noneMatch(address -> address.name().equals(peer))) {
            return complete(error(StatusCodes.NOT_FOUND, "no peer named " + peer));
          }
          return concat(
              post(() -> {
                retired.retire(peer);
                return complete(json(StatusCodes.OK, Map.of("peer", peer, "retired", true)));
              }),
              delete(() -> {
                retired.reinstate(peer);
                return complete(json(StatusCodes.OK, Map.of("peer", peer, "retired", false)));
              }));
        })));
  }

}
