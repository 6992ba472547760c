package io.quorumkv.http;

import static io.quorumkv.http.JsonResponses.badRequest;
import static io.quorumkv.http.JsonResponses.error;
import static io.quorumkv.http.JsonResponses.json;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Scheduler;
import akka.actor.typed.javadsl.AskPattern;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.ETag;
import akka.http.javadsl.model.headers.EntityTag;
import akka.http.javadsl.model.headers.RawHeader;
import akka.http.javadsl.model.headers.RetryAfter;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import akka.http.javadsl.unmarshalling.Unmarshaller;
import akka.util.ByteString;
import io.quorumkv.build.BuildInfo;
import io.quorumkv.config.Settings;
import io.quorumkv.coordinator.Condition;
import io.quorumkv.coordinator.NotStarted;
import io.quorumkv.coordinator.Consistency;
import io.quorumkv.coordinator.Coordinators;
import io.quorumkv.coordinator.ListPlan;
import io.quorumkv.coordinator.ListResult;
import io.quorumkv.coordinator.Overloaded;
import io.quorumkv.coordinator.QuorumNotReached;
import io.quorumkv.coordinator.ReadResult;
import io.quorumkv.coordinator.WriteResult;
import io.quorumkv.membership.PeerCapabilities;
import io.quorumkv.metrics.ReplicaMetrics;
import io.quorumkv.security.AccessAudit;
import io.quorumkv.security.Role;
import io.quorumkv.security.TokenFile;
import io.quorumkv.store.ReplicaProtocol.Capabilities;
import io.quorumkv.store.ReplicaProtocol.ListPage;
import io.quorumkv.store.Value;
import io.quorumkv.labels.Labels;
import io.quorumkv.version.HybridLogicalClock;
import io.quorumkv.version.Version;
import io.quorumkv.wire.InternalHttp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The public API (docs/design.md, "Public API"): {@code PUT/GET/DELETE /kv/{key}}, {@code /health}
 * (and {@code /health/live}, {@code /health/ready}), {@code /version}, {@code /cluster}, {@code /metrics}. Routes validate (400/413), ask {@link Coordinators}, and map the sealed
 * reply to a status; the coordinator's deadline, not the ask's, decides the answer.
 */
public final class PublicRoutes extends AllDirectives {

  /** Headroom between a coordinator's deadline and the ask's, so the coordinator answers. */
  private static final Duration ASK_MARGIN = Duration.ofSeconds(1);

  private final ActorRef<Coordinators.Command> coordinators;
  private final Scheduler scheduler;
  private final Settings settings;
  private final ClusterView cluster;
  private final Duration askTimeout;
  /** Keys a listing returns when it names no limit. */
  static final int LIST_LIMIT_DEFAULT = 100;
  private final ReplicaMetrics metrics;
  private final Optional<TokenFile> tokens;
  private final AccessAudit audit;
  /** Whether every peer's build stores TTL records: until then a PUT with a ttl is refused. */
  private final PeerCapabilities capabilities;

  public PublicRoutes(
      ActorRef<Coordinators.Command> coordinators, Scheduler scheduler, Settings settings, ClusterView cluster,
      ReplicaMetrics metrics, Optional<TokenFile> tokens, AccessAudit audit, PeerCapabilities capabilities) {
    this.capabilities = capabilities;
    this.metrics = metrics;
    this.tokens = tokens;
    this.audit = audit;
    this.coordinators = coordinators;
    this.scheduler = scheduler;
    this.settings = settings;
    this.cluster = cluster;
    Duration longest = settings.writeTimeout().compareTo(settings.readTimeout()) > 0
        ? settings.writeTimeout() : settings.readTimeout();
    this.askTimeout = longest.plus(ASK_MARGIN);
  }

  public Route routes() {
    return concat(
        pathPrefix("kv", () -> concat(
            path(PathMatchers.segment(), key -> measured(() -> withKey(key, validKey -> withConsistency(consistency ->
                concat(
                    put(() -> authorized(Role.READWRITE, "a write", () -> withTtl(ttlMillis ->
                        withSizeLimit(settings.valueBytesMax(), () ->
                        withWriteCondition(consistency, condition -> entity(Unmarshaller.entityToByteString(),
                            body -> write(validKey, body, ttlMillis, consistency, condition))))))),
                    get(() -> authorized(Role.READ, "a read", () -> withReadCondition(notModifiedIf ->
                        read(validKey, consistency, notModifiedIf)))),
                    delete(() -> authorized(Role.READWRITE, "a delete", () -> parameterOptional("ttl", ttl ->
                        ttl.isPresent() ? complete(badRequest("a delete has no ttl"))
                            : withWriteCondition(consistency, condition -> remove(validKey, consistency, condition)))))))))),
            pathEndOrSingleSlash(() -> concat(
                get(() -> measured(ReplicaMetrics.LIST_OP, () -> authorized(Role.READ, "a listing", () -> withConsistency(consistency ->
                    withListing((prefix, start, limit, values) -> list(prefix, start, limit, values, consistency)))))),
                complete(badRequest("the key is missing: use /kv/{key} (GET /kv?prefix=... lists keys)")))),
            path(PathMatchers.segment().slash(PathMatchers.remaining()), (first, rest) ->
                complete(badRequest("a key is one path segment: percent-encode '/' as %2F"))))),
        pathPrefix("health", () -> concat(
            // Liveness, as before /health/live existed: kept for probes and scripts that use it.
            pathEnd(() -> get(() -> complete(json(StatusCodes.OK, health())))),
            path("live", () -> get(() -> complete(json(StatusCodes.OK, health())))),
            path("ready", () -> get(() -> complete(ready()))))),
        path("version", () -> get(() -> complete(json(StatusCodes.OK,
            BuildInfo.current().toJson(InternalHttp.VERSION))))),
        path("cluster", () -> get(() -> authorized(Role.READ, "/cluster",
            () -> complete(json(StatusCodes.OK, cluster.render()))))),
        path("metrics", () -> get(() -> settings.metricsAuth()
            ? authorized(Role.READ, "/metrics", this::scrape)
            : scrape())));
  }

  private Route scrape() {
    return complete(HttpResponse.create().withEntity(ContentTypes.parse(metrics.contentType()), metrics.scrape()));
  }

  /** The route when the caller's token allows {@code needed} (or no tokens are configured). */
  private Route authorized(Role needed, String what, Supplier<Route> inner) {
    return AuthCheck.require(tokens, needed, audit, what, caller -> inner.get());
  }

  /**
   * Counts and times each {@code /kv} request by operation, consistency and the status it got.
   * Rejections and exceptions inside become their error responses here, so every request that
   * was counted in is counted out.
   */
  private Route measured(Supplier<Route> inner) {
    return measured(null, inner);
  }

  /** As {@link #measured(Supplier)}, under operation {@code op} (null: the request's method). */
  private Route measured(String fixedOp, Supplier<Route> inner) {
    return extractRequest(request -> {
      long began = System.nanoTime();
      // Labels come from fixed sets only: a label taken from client input would let any
      // client grow /metrics without bound.
      String op = fixedOp != null ? fixedOp : ReplicaMetrics.opLabel(request.method().value());
      String consistency = request.getUri().query().get("consistency")
          .map(text -> Consistency.parse(text).map(Consistency::label).orElse(ReplicaMetrics.INVALID))
          .orElse(Consistency.QUORUM.label());
      metrics.requestStarted();
      return mapResponse(response -> {
        metrics.requestAnswered(op, consistency, response.status().intValue(), System.nanoTime() - began);
        return response;
      }, () -> handleExceptions(ErrorHandling.exceptions(), () -> handleRejections(ErrorHandling.rejections(), inner)));
    });
  }

  private Route withKey(String key, Function<String, Route> inner) {
    return Keys.problem(key, settings.keyBytesMax())
        .map(problem -> complete(badRequest(problem)))
        .orElseGet(() -> inner.apply(key));
  }

  private Route withConsistency(Function<Consistency, Route> inner) {
    return parameterOptional("consistency", text -> {
      if (text.isEmpty()) {
        return inner.apply(Consistency.QUORUM);
      }
      Optional<Consistency> consistency = Consistency.parse(text.get());
      return consistency.map(inner)
          .orElseGet(() -> complete(badRequest("consistency must be one, quorum or all, not '" + text.get() + "'")));
    });
  }

  /** A PUT's {@code ttl} in milliseconds (0: none); malformed or out of range: 400. */
  private Route withTtl(Function<Long, Route> inner) {
    return parameterOptional("ttl", text -> {
      if (text.isEmpty()) {
        return inner.apply(0L);
      }
      TtlParameter.Parsed parsed = TtlParameter.parse(text.get());
      return parsed.problem() != null ? complete(badRequest(parsed.problem())) : inner.apply(parsed.millis());
    });
  }

  /** The parameters of a listing (docs/listing-watch-ttl.md); any malformed one: 400. */
  @FunctionalInterface
  private interface ListingRoute {
    Route apply(String prefix, String start, int limit, boolean values);
  }

  private Route withListing(ListingRoute inner) {
    return parameterOptional("prefix", prefix -> parameterOptional("start", start ->
        parameterOptional("limit", limitText -> parameterOptional("values", valuesText -> {
          Optional<String> problem = Keys.listingProblem(prefix.orElse(""), start.orElse(""), settings.keyBytesMax());
          if (problem.isPresent()) {
            return complete(badRequest(problem.get()));
          }
          int limit = LIST_LIMIT_DEFAULT;
          if (limitText.isPresent()) {
            try {
              limit = Integer.parseInt(limitText.get());
            } catch (NumberFormatException e) {
              limit = 0;
            }
            if (limit < 1 || limit > ListPage.LIMIT_MAX) {
              return complete(badRequest("limit must be a whole number from 1 to " + ListPage.LIMIT_MAX + ", not '"
                  + limitText.get() + "'"));
            }
          }
          if (valuesText.isPresent() && !valuesText.get().equals("true") && !valuesText.get().equals("false")) {
            return complete(badRequest("values must be true or false, not '" + valuesText.get() + "'"));
          }
          return inner.apply(prefix.orElse(""), start.orElse(""), limit, valuesText.map("true"::equals).orElse(false));
        }))));
  }

  private Route list(String prefix, String start, int limit, boolean values, Consistency consistency) {
    return onSuccess(
        AskPattern.<Coordinators.Command, ListResult>ask(coordinators,
            replyTo -> new Coordinators.ListKeys(prefix, start, limit, values, consistency, replyTo),
            askTimeout.plus(settings.readTimeout()), scheduler),
        result -> complete(listResponse(result)));
  }

  static HttpResponse listResponse(ListResult result) {
    if (result instanceof ListResult.Listed listed) {
      List<Map<String, Object>> items = new ArrayList<>(listed.items().size());
      for (ListPlan.Item item : listed.items()) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("key", item.key());
        json.put("version", item.version().toString());
        item.value().ifPresent(value -> json.put("valueBase64", Base64.getEncoder().encodeToString(value.bytes())));
        if (item.ttlMillis() != 0) {
          json.put("expiresAt", expiresAt(item.version(), item.ttlMillis()));
        }
        items.add(json);
      }
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("items", items);
      body.put("next", listed.next().orElse(null));
      return json(StatusCodes.OK, body);
    }
    return readFailure("list quorum not reached", result);
  }

  /** A PUT's or DELETE's condition header, if any; malformed, or at consistency=one: 400. */
  private Route withWriteCondition(Consistency consistency, Function<Optional<Condition>, Route> inner) {
    return optionalHeaderValueByName("If-Match", ifMatch -> optionalHeaderValueByName("If-None-Match",
        ifNoneMatch -> {
          Preconditions.Parsed<Condition> parsed = Preconditions.forWrite(ifMatch, ifNoneMatch);
          if (parsed.problem().isPresent()) {
            return complete(badRequest(parsed.problem().get()));
          }
          if (parsed.value().isPresent() && consistency == Consistency.ONE) {
            return complete(badRequest("a conditional write needs a quorum: consistency=one cannot evaluate a"
                + " condition"));
          }
          return inner.apply(parsed.value());
        }));
  }

  private Route withReadCondition(Function<Optional<Preconditions.NotModifiedIf>, Route> inner) {
    return optionalHeaderValueByName("If-Match", ifMatch -> optionalHeaderValueByName("If-None-Match",
        ifNoneMatch -> {
          Preconditions.Parsed<Preconditions.NotModifiedIf> parsed = Preconditions.forRead(ifMatch, ifNoneMatch);
          return parsed.problem().map(problem -> complete(badRequest(problem)))
              .orElseGet(() -> inner.apply(parsed.value()));
        }));
  }

  private Route write(String key, ByteString body, long ttlMillis, Consistency consistency,
      Optional<Condition> condition) {
    if (body.size() > settings.valueBytesMax()) {
      return complete(error(StatusCodes.PAYLOAD_TOO_LARGE, "the value is too large",
          "valueBytes", body.size(), "limitBytes", settings.valueBytesMax()));
    }
    Optional<String> lacking = ttlMillis == 0 ? Optional.empty() : capabilities.lacking(Capabilities.TTL_RECORDS);
    if (lacking.isPresent()) {
      // A peer of an older build could neither store nor read the record (docs/operating.md, "Upgrading").
      return complete(error(StatusCodes.SERVICE_UNAVAILABLE,
          "ttl not available until every replica runs a build that supports it",
          "peer", lacking.get(), "outcome", "not-applied")
          .addHeader(RetryAfter.create(1L)));
    }
    Value value = Value.wrap(body.toArray());
    return onSuccess(
        AskPattern.<Coordinators.Command, WriteResult>ask(coordinators, replyTo -> condition.isPresent()
                ? new Coordinators.ConditionalWrite(key, Optional.of(value), ttlMillis, condition.get(), consistency,
                    replyTo)
                : new Coordinators.Put(key, value, ttlMillis, consistency, replyTo), askTimeout, scheduler),
        result -> complete(writeResponse(result, false, ttlMillis)));
  }

  private Route remove(String key, Consistency consistency, Optional<Condition> condition) {
    return onSuccess(
        AskPattern.<Coordinators.Command, WriteResult>ask(coordinators, replyTo -> condition.isPresent()
                ? new Coordinators.ConditionalWrite(key, Optional.empty(), 0L, condition.get(), consistency, replyTo)
                : new Coordinators.Delete(key, consistency, replyTo), askTimeout, scheduler),
        result -> complete(writeResponse(result, true, 0L)));
  }

  private Route read(String key, Consistency consistency, Optional<Preconditions.NotModifiedIf> notModifiedIf) {
    return onSuccess(
        AskPattern.<Coordinators.Command, ReadResult>ask(
            coordinators, replyTo -> new Coordinators.Get(key, consistency, replyTo), askTimeout, scheduler),
        result -> complete(notModified(result, notModifiedIf).orElseGet(() -> readResponse(result))));
  }

  /** 304 with the ETag when the value found has the version the GET named (or any, for *). */
  static Optional<HttpResponse> notModified(ReadResult result, Optional<Preconditions.NotModifiedIf> notModifiedIf) {
    if (notModifiedIf.isEmpty() || !(result instanceof ReadResult.Found found)) {
      return Optional.empty();
    }
    Version current = found.record().version();
    if (notModifiedIf.get().version().map(current::equals).orElse(true)) {
      return Optional.of(HttpResponse.create().withStatus(StatusCodes.NOT_MODIFIED).addHeader(etag(current)));
    }
    return Optional.empty();
  }

  /** @param ttlMillis the write's TTL (0: none), from which its answer's {@code expiresAt} follows */
  static HttpResponse writeResponse(WriteResult result, boolean delete, long ttlMillis) {
    if (result instanceof WriteResult.Written written) {
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("key", written.key());
      body.put("version", written.version().toString());
      if (delete) {
        body.put("deleted", true);
      }
      if (ttlMillis != 0) {
        body.put("expiresAt", expiresAt(written.version(), ttlMillis));
      }
      return json(StatusCodes.OK, body).addHeader(etag(written.version()));
    }
    if (result instanceof QuorumNotReached failed) {
      return error(StatusCodes.SERVICE_UNAVAILABLE, "write quorum not reached",
          "phase", failed.phase().label(),
          "acks", failed.answered(),
          "required", failed.required(),
          "replicas", failed.replicas(),
          "outcome", failed.phase().indeterminate() ? "indeterminate" : "not-applied");
    }
    if (result instanceof WriteResult.PreconditionFailed failed) {
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("error", "precondition failed");
      body.put("key", failed.key());
      body.put("currentVersion", failed.current().map(Version::toString).orElse(null));
      HttpResponse response = json(StatusCodes.PRECONDITION_FAILED, body);
      return failed.current().map(version -> response.addHeader(etag(version))).orElse(response);
    }
    if (result instanceof WriteResult.Contended contended) {
      return error(StatusCodes.SERVICE_UNAVAILABLE, "contention: other conditional writes of this key kept"
              + " preempting this one",
          "phase", "prepare", "attempts", contended.attempts(), "outcome", "not-applied")
          .addHeader(RetryAfter.create(1L));
    }
    if (result instanceof NotStarted fenced) {
      return notStarted(fenced);
    }
    return overloaded((Overloaded) result);
  }

  static HttpResponse readResponse(ReadResult result) {
    if (result instanceof ReadResult.Found found) {
      HttpResponse response = HttpResponse.create()
          .withStatus(StatusCodes.OK)
          .withEntity(ContentTypes.APPLICATION_OCTET_STREAM, found.record().value().bytes())
          .addHeader(etag(found.record().version()));
      return found.record().hasTtl()
          ? response.addHeader(RawHeader.create(EXPIRES_AT_HEADER,
              expiresAt(found.record().version(), found.record().ttlMillis())))
          : response;
    }
    if (result instanceof ReadResult.NotFound notFound) {
      return error(StatusCodes.NOT_FOUND, "not found", "key", notFound.key());
    }
    return readFailure("read quorum not reached", result);
  }

  /**
   * The 503 of a read or a listing that got no answer: {@code failure} is a
   * {@link QuorumNotReached} ({@code quorumError} names it), a {@link NotStarted} or an
   * {@link Overloaded}, the failures reads and listings share.
   */
  private static HttpResponse readFailure(String quorumError, Object failure) {
    if (failure instanceof QuorumNotReached failed) {
      return error(StatusCodes.SERVICE_UNAVAILABLE, quorumError,
          "phase", failed.phase().label(),
          "responses", failed.answered(),
          "required", failed.required(),
          "replicas", failed.replicas());
    }
    if (failure instanceof NotStarted fenced) {
      return notStarted(fenced);
    }
    return overloaded((Overloaded) failure);
  }

  /** Nothing was started: "not-applied" tells a client that a retry elsewhere is safe. */
  private static HttpResponse overloaded(Overloaded overloaded) {
    return error(StatusCodes.SERVICE_UNAVAILABLE, "overloaded: too many requests in flight",
        "inFlight", overloaded.inFlight(), "inFlightMax", overloaded.inFlightMax(), "outcome", "not-applied")
        .addHeader(RetryAfter.create(1L));
  }

  private static HttpResponse notStarted(NotStarted refused) {
    return error(StatusCodes.SERVICE_UNAVAILABLE, refused.reason(), "phase", refused.phase(), "outcome", "not-applied")
        .addHeader(RetryAfter.create(1L));
  }

  /** The header a GET of a value with a TTL carries: when it expires, as {@link #expiresAt}. */
  static final String EXPIRES_AT_HEADER = "Expires-At";

  /**
   * When a record of {@code version} with {@code ttlMillis} expires, as an ISO-8601 UTC instant: by
   * the clock of the replica that issued the version, so readers may see it within max-clock-offset
   * either way (docs/consistency.md, "Expiring keys").
   */
  static String expiresAt(Version version, long ttlMillis) {
    return java.time.Instant.ofEpochMilli(HybridLogicalClock.millisOf(version.hlc()) + ttlMillis).toString();
  }

  private static ETag etag(Version version) {
    return ETag.create(EntityTag.create(version.toString(), false));
  }

  /** 200 when {@link ClusterView#readiness} holds, else 503 with the reasons. */
  private HttpResponse ready() {
    ClusterView.Readiness readiness = cluster.readiness();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("status", readiness.ready() ? "ready" : "not-ready");
    body.put("node", cluster.nodeId());
    body.put("reasons", readiness.reasons());
    body.put("incarnation", Labels.of(cluster.incarnation().state()));
    body.put("clock", cluster.clockFence().reason().isPresent() ? "fenced" : "ok");
    body.put("reachableReplicas", readiness.reachableReplicas());
    body.put("writeQuorum", cluster.writeQuorum());
    return json(readiness.ready() ? StatusCodes.OK : StatusCodes.SERVICE_UNAVAILABLE, body);
  }

  private Map<String, Object> health() {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("status", "ok");
    body.put("node", cluster.nodeId());
    body.put("replicaId", Version.hex(cluster.replicaId()));
    body.put("incarnation", Labels.of(cluster.incarnation().state()));
    body.put("clock", cluster.clockFence().reason().isPresent() ? "fenced" : "ok");
    body.put("storage", cluster.storage().isDiskFull() ? "full"
        : cluster.storage().refusesWrites() ? "over-quota" : "ok");
    return body;
  }
}
