package io.quorumkv.security;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/** An address range such as {@code 10.0.0.0/8} or {@code fd00::/8}. */
public record Cidr(byte[] network, int prefixLength) {

  /**
   * @throws IllegalArgumentException with a one-line reason for anything but {@code ADDRESS/BITS}
   *     with a literal IPv4 or IPv6 address (no host names: a range is not resolved)
   */
  public static Cidr parse(String text) {
    String trimmed = text.trim();
    int slash = trimmed.indexOf('/');
    if (slash <= 0 || slash == trimmed.length() - 1) {
      throw new IllegalArgumentException("'" + text + "' is not an address range ADDRESS/BITS, e.g. 10.0.0.0/8");
    }
    String address = trimmed.substring(0, slash);
    boolean ipv4 = address.matches("(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");
    boolean ipv6 = address.contains(":") && address.matches("[0-9a-fA-F:]+");
    if (!ipv4 && !ipv6) {
      throw new IllegalArgumentException("'" + text + "': the address must be a literal IPv4 address (four numbers)"
          + " or IPv6 address (hexadecimal groups)");
    }
    byte[] network;
    int bits;
    try {
      network = InetAddress.getByName(address).getAddress(); // a checked literal: no lookup
      bits = Integer.parseInt(trimmed.substring(slash + 1));
    } catch (UnknownHostException | NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' is not an address range ADDRESS/BITS", e);
    }
    if (network.length != (ipv4 ? 4 : 16)) {
      throw new IllegalArgumentException("'" + text + "': write an IPv4 range as a.b.c.d/N");
    }
    if (bits < 0 || bits > network.length * 8) {
      throw new IllegalArgumentException("'" + text + "': the prefix length must be 0.." + network.length * 8);
    }
    for (int bit = bits; bit < network.length * 8; bit++) {
      if ((network[bit / 8] >> (7 - bit % 8) & 1) != 0) {
        // 10.1.2.3/8 is most likely a typo for a narrower range: say so rather than guess.
        throw new IllegalArgumentException("'" + text + "' has bits set beyond its prefix length");
      }
    }
    return new Cidr(network, bits);
  }

  /** A comma-separated list; empty text is an empty list. */
  public static List<Cidr> parseList(String text) {
    List<Cidr> ranges = new ArrayList<>();
    for (String part : text.split(",")) {
      if (!part.isBlank()) {
        ranges.add(parse(part));
      }
    }
    return List.copyOf(ranges);
  }

  public boolean contains(InetAddress address) {
    byte[] candidate = address.getAddress();
    if (candidate.length != network.length) {
      return false; // IPv4 and IPv6 ranges match their own family only
    }
    int full = prefixLength / 8;
    for (int i = 0; i < full; i++) {
      if (candidate[i] != network[i]) {
        return false;
      }
    }
    int rest = prefixLength % 8;
    if (rest == 0) {
      return true;
    }
    int mask = 0xff << (8 - rest) & 0xff;
    return (candidate[full] & mask) == (network[full] & mask);
  }

  @Override
  public String toString() {
    try {
      return InetAddress.getByAddress(network).getHostAddress() + "/" + prefixLength;
    } catch (UnknownHostException e) {
      return "?/" + prefixLength;
    }
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Cidr that && prefixLength == that.prefixLength && java.util.Arrays.equals(network, that.network);
  }

  @Override
  public int hashCode() {
    return 31 * java.util.Arrays.hashCode(network) + prefixLength;
  }
}
