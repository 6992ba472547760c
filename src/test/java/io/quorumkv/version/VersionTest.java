package io.quorumkv.version;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.List;
import org.junit.Test;

/** Goal: versions order by clock, then replica id, and survive their text form. Tables. */
public class VersionTest {

  @Test
  public void ordersByClockThenReplicaId() {
    List<Version> ascending = List.of(
        Version.ZERO,
        new Version(1, 0),
        new Version(1, 5),
        new Version(1, -1L), // replica ids compare unsigned: 0xffff... is the largest
        new Version(2, 0),
        new Version(Long.MAX_VALUE, 0));
    for (int i = 0; i + 1 < ascending.size(); i++) {
      assertTrue(ascending.get(i + 1) + " > " + ascending.get(i), ascending.get(i + 1).isAfter(ascending.get(i)));
      assertTrue(ascending.get(i).compareTo(ascending.get(i + 1)) < 0);
    }
    assertEquals(0, new Version(3, 4).compareTo(new Version(3, 4)));
  }

  @Test
  public void textFormRoundTrips() {
    for (Version version : List.of(Version.ZERO, new Version(123456789L, 0xdeadbeefL), new Version(1, -1L))) {
      assertEquals(version, Version.parse(version.toString()));
    }
    assertEquals("5.000000000000000a", new Version(5, 10).toString());
  }

  @Test
  public void malformedTextIsRejected() {
    for (String text : List.of("", ".", "5", "5.", ".a", "x.1", "5.zz", "-1.1", "5.11111111111111111")) {
      assertThrows(text, IllegalArgumentException.class, () -> Version.parse(text));
    }
  }
}
