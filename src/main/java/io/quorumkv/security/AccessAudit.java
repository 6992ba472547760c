package io.quorumkv.security;

import io.quorumkv.logging.RateLimitedLog;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refused calls: counted by reason (a fixed set, so {@code /metrics} stays bounded whoever
 * calls) and logged with the caller's address, at most once per ten seconds per reason so a
 * flood cannot fill the disk with log lines.
 */
public final class AccessAudit {

  private static final Logger log = LoggerFactory.getLogger(AccessAudit.class);

  private final Map<NetworkAccess.Refusal, AtomicLong> counts = new EnumMap<>(NetworkAccess.Refusal.class);
  private final Map<NetworkAccess.Refusal, RateLimitedLog> logs = new EnumMap<>(NetworkAccess.Refusal.class);
  private final Map<AuthRefusal, AtomicLong> authCounts = new EnumMap<>(AuthRefusal.class);
  private final Map<AuthRefusal, RateLimitedLog> authLogs = new EnumMap<>(AuthRefusal.class);
  private final AtomicLong tlsFailures = new AtomicLong();
  private final RateLimitedLog tlsLog = new RateLimitedLog(log, Duration.ofSeconds(10));

  /** Why a client's token was refused; a fixed set, so it can label a metric. */
  public enum AuthRefusal { MISSING_TOKEN, UNKNOWN_TOKEN, ROLE_TOO_LOW }

  public AccessAudit() {
    for (NetworkAccess.Refusal reason : NetworkAccess.Refusal.values()) {
      counts.put(reason, new AtomicLong());
      logs.put(reason, new RateLimitedLog(log, Duration.ofSeconds(10)));
    }
    for (AuthRefusal reason : AuthRefusal.values()) {
      authCounts.put(reason, new AtomicLong());
      authLogs.put(reason, new RateLimitedLog(log, Duration.ofSeconds(10)));
    }
  }

  /** A request refused for its token; {@code caller} is the token's name when known, else the address. */
  public void refused(AuthRefusal reason, String caller, String what) {
    authCounts.get(reason).incrementAndGet();
    authLogs.get(reason).warn("Refused {} from {}: {}", what, printable(caller),
        reason.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' '));
  }

  public long count(AuthRefusal reason) {
    return authCounts.get(reason).get();
  }

  /**
   * A connection whose TLS handshake failed: a plain-HTTP client on the TLS port, a certificate
   * no configured CA signed, an expired one. Counted, and logged with the address and reason.
   */
  public void tlsHandshakeFailed(String address, String reason) {
    tlsFailures.incrementAndGet();
    tlsLog.warn("Refused a connection from {}: its TLS handshake failed ({}); a plain-HTTP client on this HTTPS port,"
        + " or a certificate the configured CA did not sign or that is not valid now", address, printable(reason));
  }

  public long tlsHandshakeFailures() {
    return tlsFailures.get();
  }

  /** An admin action, logged with who did it (always: admin actions are rare and worth a line each). */
  public void admin(String caller, String what) {
    log.info("Admin: {} by {}", printable(what), printable(caller));
  }

  /** Control characters (a decoded %0A in a path) escaped, so no caller can forge a log line. */
  static String printable(String text) {
    StringBuilder out = new StringBuilder(text.length());
    text.codePoints().forEach(c -> {
      if (Character.isISOControl(c)) {
        out.append(String.format("\\u%04x", c));
      } else {
        out.appendCodePoint(c);
      }
    });
    return out.toString();
  }

  public void refused(NetworkAccess.Refusal reason, String caller, String what) {
    counts.get(reason).incrementAndGet();
    logs.get(reason).warn("Refused {} from {}: {}", what, caller, describe(reason));
  }

  public long count(NetworkAccess.Refusal reason) {
    return counts.get(reason).get();
  }

  public static String describe(NetworkAccess.Refusal reason) {
    return switch (reason) {
      case INTERNAL_NOT_A_PEER -> "internal calls are accepted only from the configured peers' addresses, loopback"
          + " and INTERNAL_ALLOW_CIDRS";
      case INTERNAL_NOT_A_PEER_CERTIFICATE -> "internal calls need a peer's TLS client certificate (one that names"
          + " a configured peer and allows client authentication)";
      case ADMIN_NOT_LOOPBACK -> "admin calls are accepted only from loopback";
      case NO_REMOTE_ADDRESS -> "the connection's remote address is unknown";
      case FORWARDED_BY_A_PROXY -> "a request forwarded by a proxy on this host (it carries a forwarding header) may"
          + " not make internal or admin calls";
    };
  }
}
