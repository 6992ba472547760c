package io.quorumkv.http;

import akka.Done;
import akka.NotUsed;
import akka.actor.Cancellable;
import akka.actor.typed.ActorSystem;
import akka.http.javadsl.Http;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.headers.Connection;
import akka.http.javadsl.server.Route;
import akka.http.javadsl.settings.ServerSettings;
import akka.stream.KillSwitches;
import akka.stream.Materializer;
import akka.stream.SharedKillSwitch;
import akka.stream.TLSProtocol;
import akka.stream.javadsl.BidiFlow;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.javadsl.TLS;
import akka.stream.javadsl.TLSPlacebo;
import akka.stream.TLSClosing;
import akka.stream.javadsl.Tcp;
import akka.util.ByteString;
import io.quorumkv.logging.RateLimitedLog;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replica's HTTP server: akka-http's own server layer (parsing, rendering, request timeout,
 * WebSocket upgrades, the remote-address attribute) over plain TCP connections that this class
 * accepts itself, so it can add what akka-http 10.2 lacks (akka-http issue #813: no deadline for
 * a request head, and its idle timeout restarts with every byte):
 * <ul>
 *   <li>a <b>head deadline</b>: once the first byte of a request arrives, its whole head must
 *       arrive within {@code headTimeout}, or the connection is closed. Idle keep-alive
 *       connections between requests are left to the idle timeout;
 *   <li>a <b>per-address cap</b>: at most {@code perAddressMax} open connections from one source
 *       address; more are closed at once;
 *   <li><b>connections kept for peers</b>: of {@code connectionsMax}, the last
 *       {@code reservedForPeers} are only for the addresses the configured peers resolve to.
 * </ul>
 * So more slow or half-sent connections from one address than the limits cannot stop a replica
 * from serving other clients and its peers. Graceful termination is this class's too: unbinding
 * stops accepting, then idle connections close at once and busy ones after their response
 * ({@code Connection: close}), and whatever is left is cut at the hard deadline.
 *
 * <p>With {@link Tls}, every connection is TLS (a new server engine each), and nothing else: bytes
 * that do not start a TLS handshake (plain HTTP) fail it and the connection is closed. The head
 * deadline then covers the handshake too, since it runs on the bytes below TLS. Requests carry
 * their TLS session (akka-http's ssl-session attribute), where the routes find the client's
 * certificate.
 */
public final class GuardedServer {

  private static final Logger LOG = LoggerFactory.getLogger(GuardedServer.class);

  /** The connection limits, see the class comment. */
  public record Limits(
      int connectionsMax, int perAddressMax, int reservedForPeers, Duration headTimeout, Duration idleTimeout,
      java.util.function.Predicate<InetAddress> isPeer) {
    public Limits {
      if (connectionsMax < 1 || perAddressMax < 1 || reservedForPeers < 0 || reservedForPeers >= connectionsMax
          || headTimeout.isNegative() || headTimeout.isZero() || idleTimeout.isNegative() || idleTimeout.isZero()) {
        throw new IllegalArgumentException("connection limits must be positive, with fewer reserved than allowed");
      }
    }
  }

  /**
   * TLS on every connection: {@code engines} makes one server engine per connection;
   * {@code handshakeFailed} hears of each connection whose handshake failed (a plain-HTTP client,
   * a certificate the CA did not sign, an expired one), with the remote address and the reason.
   */
  public record Tls(Supplier<SSLEngine> engines, BiConsumer<InetAddress, String> handshakeFailed) {}

  private final Tcp.ServerBinding binding;
  private final Set<Guard> live;
  private final ActorSystem<?> system;

  private GuardedServer(Tcp.ServerBinding binding, Set<Guard> live, ActorSystem<?> system) {
    this.binding = binding;
    this.live = live;
    this.system = system;
  }

  /** Binds {@code host:port} and serves {@code route} over plain TCP on every connection the limits admit. */
  public static CompletionStage<GuardedServer> bind(
      ActorSystem<?> system, String host, int port, Route route, Limits limits) {
    return bind(system, host, port, route, limits, Optional.empty());
  }

  /** As {@link #bind(ActorSystem, String, int, Route, Limits)}, over TLS when {@code tls} is present. */
  public static CompletionStage<GuardedServer> bind(
      ActorSystem<?> system, String host, int port, Route route, Limits limits, Optional<Tls> tls) {
    Materializer materializer = Materializer.matFromSystem(system);
    ServerSettings plainSettings = ServerSettings.create(system.classicSystem());
    ServerSettings settings = tls.isEmpty() ? plainSettings
        : plainSettings.withParserSettings(plainSettings.getParserSettings().withIncludeSslSessionAttribute(true));
    Set<Guard> live = ConcurrentHashMap.newKeySet();
    Map<InetAddress, AtomicInteger> perAddress = new ConcurrentHashMap<>();
    AtomicInteger open = new AtomicInteger();
    RateLimitedLog refusals = new RateLimitedLog(LOG, Duration.ofSeconds(10));
    // One blueprint of the route for every connection: sealing it per connection costs every new
    // connection (a peer's pool opens dozens) a noticeable delay on its first request.
    Flow<HttpRequest, HttpResponse, NotUsed> routeFlow = route.flow(system);
    return Tcp.get(system).bind(host, port, settings.getBacklog(), List.of(), false, Optional.empty())
        .to(Sink.foreach(connection -> {
          InetAddress address = connection.remoteAddress().getAddress();
          boolean peer = limits.isPeer().test(address);
          AtomicInteger fromAddress = perAddress.computeIfAbsent(address, key -> new AtomicInteger());
          int total = open.incrementAndGet();
          int mine = fromAddress.incrementAndGet();
          if (mine > limits.perAddressMax() && !peer
              || total > limits.connectionsMax() - (peer ? 0 : limits.reservedForPeers())) {
            release(perAddress, address, fromAddress, open);
            refusals.warn("Refused a connection from {}: {} open from that address (at most {}), {} in all (at most"
                + " {}, {} of them kept for peers)", address.getHostAddress(), mine - 1, limits.perAddressMax(),
                total - 1, limits.connectionsMax(), limits.reservedForPeers());
            connection.handleWith(Flow.fromSinkAndSource(Sink.<ByteString>cancelled(), Source.<ByteString>empty()),
                materializer);
            return;
          }
          Guard guard = new Guard(system, limits.headTimeout());
          live.add(guard);
          connection.handleWith(
                  connectionFlow(system, settings, routeFlow, connection.remoteAddress(), guard, limits, tls), materializer)
              .whenComplete((done, failure) -> { // a failed connection never fails the binding
                if (tls.isPresent() && guard.handshakeFailed()) {
                  tls.get().handshakeFailed().accept(address, failure == null
                      ? "the handshake did not complete" : String.valueOf(failure.getMessage()));
                }
                live.remove(guard);
                guard.closed.complete(Done.getInstance());
                release(perAddress, address, fromAddress, open);
              });
        }))
        .run(materializer)
        .thenApply(binding -> new GuardedServer(binding, live, system));
  }

  private static void release(
      Map<InetAddress, AtomicInteger> perAddress, InetAddress address, AtomicInteger fromAddress, AtomicInteger open) {
    open.decrementAndGet();
    if (fromAddress.decrementAndGet() <= 0) {
      perAddress.remove(address, fromAddress);
      if (fromAddress.get() > 0) { // raced with a new connection from the same address
        perAddress.putIfAbsent(address, fromAddress);
      }
    }
  }

  /** One connection's bytes: akka-http's server layer, guarded, with the route on top. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Flow<ByteString, ByteString, CompletionStage<Done>> connectionFlow(
      ActorSystem<?> system, ServerSettings settings, Flow<HttpRequest, HttpResponse, NotUsed> routeFlow,
      InetSocketAddress remote, Guard guard, Limits limits, Optional<Tls> tls) {
    BidiFlow<HttpResponse, TLSProtocol.SslTlsOutbound, TLSProtocol.SslTlsInbound, HttpRequest, NotUsed> server =
        Http.get(system).serverLayer(settings, Optional.of(remote), system.classicSystem().log());
    // TLS: a new engine per connection, closed with the connection (as akka-http's own HTTPS
    // server does). Plain TCP: the placebo turns bytes into "session bytes" for the server layer
    // (Java's generics cannot see that SessionBytes is an SslTlsInbound).
    BidiFlow<TLSProtocol.SslTlsOutbound, ByteString, ByteString, TLSProtocol.SslTlsInbound, NotUsed> security =
        tls.isPresent() ? TLS.create(() -> guard.engine(tls.get().engines().get()), TLSClosing.eagerClose())
            : (BidiFlow) TLSPlacebo.getInstance();
    BidiFlow<ByteString, ByteString, ByteString, ByteString, NotUsed> guarded = BidiFlow.fromFlows(
        Flow.<ByteString>create().via(guard.killSwitch.flow()),
        Flow.<ByteString>create().via(guard.killSwitch.flow()).map(guard::bytesIn));
    BidiFlow<ByteString, ByteString, ByteString, ByteString, NotUsed> idle =
        BidiFlow.bidirectionalIdleTimeout(limits.idleTimeout());
    Flow<HttpRequest, HttpResponse, NotUsed> handler = Flow.<HttpRequest>create()
        .map(guard::headIn)
        .via(routeFlow)
        .map(guard::responseOut);
    return handler.join(server.atop(security).atop(guarded).atop(idle)).watchTermination((notUsed, done) -> done);
  }

  public InetSocketAddress localAddress() {
    return binding.localAddress();
  }

  /** Stops accepting connections; those open go on. */
  public CompletionStage<Done> unbind() {
    return binding.unbind().thenApply(unit -> Done.getInstance());
  }

  /**
   * Stops accepting, closes idle connections at once and busy ones after their response, and
   * cuts the rest at {@code hardDeadline}; completes once every connection is closed.
   */
  public CompletionStage<Done> terminate(Duration hardDeadline) {
    return unbind().thenCompose(unbound -> {
      List<Guard> open = List.copyOf(live);
      open.forEach(Guard::beginTermination);
      Cancellable cut = system.scheduler().scheduleOnce(hardDeadline,
          () -> open.forEach(guard -> guard.killSwitch.abort(new IllegalStateException("the server stopped"))),
          system.executionContext());
      return CompletableFuture.allOf(open.stream().map(guard -> guard.closed).toArray(CompletableFuture[]::new))
          .thenApply(all -> {
            cut.cancel();
            return Done.getInstance();
          });
    });
  }

  /**
   * What one connection is doing, for the head deadline: idle between requests, reading a head
   * (the deadline runs), serving a request, or upgraded to a WebSocket (never guarded again).
   */
  private static final class Guard {
    private enum State { IDLE, HEAD, BUSY, UPGRADED }

    private static final AtomicInteger NEXT = new AtomicInteger();

    final SharedKillSwitch killSwitch = KillSwitches.shared("connection-" + NEXT.incrementAndGet());
    final CompletableFuture<Done> closed = new CompletableFuture<>();
    private final ActorSystem<?> system;
    private final Duration headTimeout;
    private State state = State.IDLE;
    private Cancellable deadline;
    private boolean closing;
    private boolean bytesSeen;
    private SSLEngine engine; // with TLS: this connection's

    Guard(ActorSystem<?> system, Duration headTimeout) {
      this.system = system;
      this.headTimeout = headTimeout;
    }

    synchronized SSLEngine engine(SSLEngine created) {
      engine = created;
      return created;
    }

    /**
     * Whether this connection sent bytes but never completed its TLS handshake (a plain-HTTP
     * client, a refused certificate): the TLS stage ends such a connection without saying why.
     */
    synchronized boolean handshakeFailed() {
      return engine != null && bytesSeen && "SSL_NULL_WITH_NULL_NULL".equals(engine.getSession().getCipherSuite());
    }

    /** Bytes from the client: the first of a new request starts the head deadline. */
    synchronized ByteString bytesIn(ByteString bytes) {
      bytesSeen |= !bytes.isEmpty();
      if (state == State.IDLE && !bytes.isEmpty()) {
        state = State.HEAD;
        deadline = system.scheduler().scheduleOnce(headTimeout, this::headTooLate, system.executionContext());
      }
      return bytes;
    }

    private synchronized void headTooLate() {
      if (state == State.HEAD) {
        killSwitch.abort(new IllegalStateException("the request head did not arrive within " + headTimeout));
      }
    }

    /** The server layer parsed a whole request head. */
    synchronized HttpRequest headIn(HttpRequest request) {
      if (deadline != null) {
        deadline.cancel();
      }
      state = State.BUSY;
      return request;
    }

    /** A response leaves for the client; after a 101 the connection carries WebSocket frames. */
    synchronized HttpResponse responseOut(HttpResponse response) {
      if (response.status().intValue() == 101) {
        state = State.UPGRADED;
        return response;
      }
      state = State.IDLE;
      return closing ? response.addHeader(Connection.create("close")) : response;
    }

    /**
     * Idle connections, half-read heads and WebSockets (a peer's replication stream, which
     * falls back to HTTP and reconnects elsewhere) close at once; a request being served gets
     * its response first, with {@code Connection: close}.
     */
    synchronized void beginTermination() {
      closing = true;
      if (state != State.BUSY) {
        killSwitch.shutdown();
      }
    }
  }
}
