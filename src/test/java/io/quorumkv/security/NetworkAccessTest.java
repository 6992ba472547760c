package io.quorumkv.security;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.Test;

/**
 * Goal: who may make internal and admin calls: loopback, the peers' current addresses (a peer
 * that moves is let in once the book is refreshed, a refresh a miss asks for at most once per
 * interval, lookups never on the caller's thread), the allowed ranges; admin from loopback only;
 * ranges parse strictly.
 */
public class NetworkAccessTest {

  private static InetAddress ip(String literal) throws UnknownHostException {
    return InetAddress.getByName(literal);
  }

  /** A resolver answering from {@code dns}, as it is when asked; a missing name does not resolve. */
  private static PeerAddressBook.Resolver resolverOf(Map<String, List<InetAddress>> dns) {
    return host -> {
      List<InetAddress> addresses = dns.get(host);
      if (addresses == null) {
        throw new UnknownHostException(host);
      }
      return addresses;
    };
  }

  @Test
  public void rangesParseStrictlyAndMatchTheirFamily() throws Exception {
    Cidr ten = Cidr.parse(" 10.0.0.0/8 ");
    assertTrue(ten.contains(ip("10.200.3.4")));
    assertFalse(ten.contains(ip("11.0.0.1")));
    Cidr odd = Cidr.parse("192.168.4.0/22");
    assertTrue(odd.contains(ip("192.168.7.255")));
    assertFalse(odd.contains(ip("192.168.8.0")));
    assertTrue(Cidr.parse("fd00::/8").contains(ip("fd12::1")));
    assertFalse(Cidr.parse("fd00::/8").contains(ip("10.0.0.1")));
    assertTrue(Cidr.parse("0.0.0.0/0").contains(ip("203.0.113.9")));
    assertEquals(List.of(ten, odd), Cidr.parseList("10.0.0.0/8, 192.168.4.0/22,"));
    assertEquals(List.of(), Cidr.parseList(""));
    for (String bad : List.of("10.0.0.0", "10.0.0.0/33", "example.com/8", "/8", "10.0.0.0/x", "::/129", "10.1/16",
        "10/8", "1.2.3.4.5/8", "10.1.2.3/8", "::ffff:10.0.0.0/104", "256.0.0.0/8")) {
      assertThrows(bad, IllegalArgumentException.class, () -> Cidr.parse(bad));
    }
  }

  @Test
  public void aPeerThatMovesIsLetInOnceTheBookIsRefreshed() throws Exception {
    Map<String, List<InetAddress>> dns = new HashMap<>(Map.of("db-1", List.of(ip("192.0.2.1"))));
    AtomicLong now = new AtomicLong();
    List<Runnable> queued = new ArrayList<>(); // lookups run when the test says, never on the caller's thread
    PeerAddressBook book = new PeerAddressBook(List.of("db-1", "db-2"), resolverOf(dns), queued::add, now::get, Duration.ofSeconds(1));
    book.refreshNow();
    NetworkAccess access = new NetworkAccess(book, List.of(Cidr.parse("198.51.100.0/24")));
    assertEquals(Optional.empty(), access.internal(Optional.of(ip("192.0.2.1")), false, CertificateCaller.NONE));
    assertEquals(Optional.empty(), access.internal(Optional.of(ip("127.0.0.5")), false, CertificateCaller.NONE));
    assertEquals(Optional.empty(), access.internal(Optional.of(ip("::1")), false, CertificateCaller.NONE));
    assertEquals(Optional.empty(), access.internal(Optional.of(ip("198.51.100.77")), false, CertificateCaller.NONE));
    assertEquals(Optional.of(NetworkAccess.Refusal.NO_REMOTE_ADDRESS), access.internal(Optional.empty(), false, CertificateCaller.NONE));

    dns.put("db-2", List.of(ip("192.0.2.2"))); // db-2's name appears late
    now.addAndGet(Duration.ofSeconds(2).toNanos());
    assertEquals(Optional.of(NetworkAccess.Refusal.INTERNAL_NOT_A_PEER), access.internal(Optional.of(ip("192.0.2.2")), false, CertificateCaller.NONE));
    assertEquals("one refresh asked for", 1, queued.size());
    access.internal(Optional.of(ip("192.0.2.2")), false, CertificateCaller.NONE);
    access.internal(Optional.of(ip("203.0.113.1")), false, CertificateCaller.NONE);
    assertEquals("at most one at a time and one per interval", 1, queued.size());
    queued.remove(0).run();
    assertEquals(Optional.empty(), access.internal(Optional.of(ip("192.0.2.2")), false, CertificateCaller.NONE));

    dns.put("db-1", List.of(ip("192.0.2.11"))); // db-1 restarted elsewhere: its old address is no peer's now
    now.addAndGet(Duration.ofSeconds(2).toNanos());
    access.internal(Optional.of(ip("192.0.2.11")), false, CertificateCaller.NONE);
    queued.remove(0).run();
    assertEquals(Optional.empty(), access.internal(Optional.of(ip("192.0.2.11")), false, CertificateCaller.NONE));
    assertTrue(access.internal(Optional.of(ip("192.0.2.1")), false, CertificateCaller.NONE).isPresent());
  }

  @Test
  public void aFailedLookupKeepsThePeersLastAddresses() throws Exception {
    Map<String, List<InetAddress>> dns = new HashMap<>(Map.of("db-1", List.of(ip("192.0.2.1"))));
    PeerAddressBook book = new PeerAddressBook(List.of("db-1"), resolverOf(dns), Runnable::run, System::nanoTime, Duration.ofSeconds(1));
    book.refreshNow();
    dns.clear(); // the DNS server restarts
    book.refreshNow();
    assertTrue("a DNS outage does not lock a peer out", book.knows(ip("192.0.2.1")));
  }

  @Test
  public void aProxyOnThisHostDoesNotMakeItsCallersLoopback() throws Exception {
    NetworkAccess access = new NetworkAccess(PeerAddressBook.of(List.of(), Runnable::run), List.of());
    assertEquals(Optional.of(NetworkAccess.Refusal.FORWARDED_BY_A_PROXY), access.internal(Optional.of(ip("127.0.0.1")), true, CertificateCaller.NONE));
    assertEquals(Optional.of(NetworkAccess.Refusal.FORWARDED_BY_A_PROXY), access.admin(Optional.of(ip("::1")), true, CertificateCaller.NONE));
  }

  @Test
  public void tokenFilesParseStrictlyAndMatchInClearOrAsDigests() throws Exception {
    TokenBook book = TokenBook.parse(List.of("# comment", "", "clear-token-0123456789 read viewer",
        "sha256:" + java.util.HexFormat.of().formatHex(TokenBook.sha256("hashed-token-0123456789")) + " ADMIN"),
        "tokens");
    assertEquals(2, book.size());
    assertEquals(Role.READ, book.find("clear-token-0123456789").orElseThrow().role());
    assertEquals("viewer", book.find("clear-token-0123456789").orElseThrow().name());
    assertEquals(Role.ADMIN, book.find("hashed-token-0123456789").orElseThrow().role());
    assertTrue(book.find("sha256:" + java.util.HexFormat.of().formatHex(TokenBook.sha256("hashed-token-0123456789")))
        .isEmpty());
    assertTrue(book.find("clear-token-012345678").isEmpty());
    for (String bad : List.of("short read", "clear-token-0123456789 root", "clear-token-0123456789",
        "sha256:abcd read", "clear-token-0123456789 read name extra", "has:colon-0123456789 read",
        "clear-token-0123456789 read a\nclear-token-0123456789 admin b")) {
      IllegalArgumentException e = assertThrows(bad, IllegalArgumentException.class,
          () -> TokenBook.parse(bad.lines().toList(), "tokens"));
      assertTrue(e.getMessage(), e.getMessage().startsWith("tokens line "));
    }
    assertThrows(IllegalArgumentException.class, () -> TokenBook.parse(List.of("# nothing"), "tokens"));
    assertTrue(Role.ADMIN.includes(Role.READWRITE) && Role.READWRITE.includes(Role.READ) && !Role.READ.includes(Role.READWRITE));
  }

  @Test
  public void adminCallsOnlyFromLoopback() throws Exception {
    NetworkAccess access = new NetworkAccess(PeerAddressBook.of(List.of(), Runnable::run), List.of(Cidr.parse("0.0.0.0/0")));
    assertEquals(Optional.empty(), access.admin(Optional.of(ip("127.0.0.1")), false, CertificateCaller.NONE));
    assertEquals(Optional.empty(), access.admin(Optional.of(ip("::1")), false, CertificateCaller.NONE));
    assertEquals(Optional.of(NetworkAccess.Refusal.ADMIN_NOT_LOOPBACK), access.admin(Optional.of(ip("192.0.2.1")), false, CertificateCaller.NONE));
    assertEquals(Optional.of(NetworkAccess.Refusal.NO_REMOTE_ADDRESS), access.admin(Optional.empty(), false, CertificateCaller.NONE));
  }

  @Test
  public void withTlsAnInternalCallNeedsAPeersCertificateAndAPeersAddress() throws Exception {
    PeerAddressBook book = new PeerAddressBook(List.of("db-1"), resolverOf(Map.of("db-1", List.of(ip("192.0.2.1")))),
        Runnable::run, System::nanoTime, Duration.ofSeconds(1));
    book.refreshNow();
    NetworkAccess access = new NetworkAccess(book, List.of(), Optional.of(new PeerCertificates(List.of(), List.of("db-1"))));
    CertificateCaller peer = new CertificateCaller(CertificateCaller.Kind.PEER, "CN=db-1", java.time.Instant.MAX);
    CertificateCaller client = new CertificateCaller(CertificateCaller.Kind.CLIENT, "CN=app", java.time.Instant.MAX);
    assertEquals(Optional.empty(), access.internal(Optional.of(ip("192.0.2.1")), false, peer));
    assertEquals(Optional.empty(), access.internal(Optional.of(ip("127.0.0.1")), false, peer));
    for (CertificateCaller notAPeer : List.of(client, CertificateCaller.NONE)) {
      assertEquals(Optional.of(NetworkAccess.Refusal.INTERNAL_NOT_A_PEER_CERTIFICATE),
          access.internal(Optional.of(ip("192.0.2.1")), false, notAPeer));
      assertEquals(Optional.of(NetworkAccess.Refusal.INTERNAL_NOT_A_PEER_CERTIFICATE),
          access.internal(Optional.of(ip("127.0.0.1")), false, notAPeer));
    }
    assertEquals("a stolen replica key is no use from elsewhere", Optional.of(NetworkAccess.Refusal.INTERNAL_NOT_A_PEER),
        access.internal(Optional.of(ip("203.0.113.9")), false, peer));
    assertEquals("admin calls stay loopback only, whatever the certificate",
        Optional.of(NetworkAccess.Refusal.ADMIN_NOT_LOOPBACK), access.admin(Optional.of(ip("192.0.2.1")), false, peer));
    assertEquals(Optional.empty(), access.admin(Optional.of(ip("127.0.0.1")), false, CertificateCaller.NONE));
  }
}
