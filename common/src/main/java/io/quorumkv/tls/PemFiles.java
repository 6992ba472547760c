package io.quorumkv.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads PEM files with the JDK alone: certificates ({@code BEGIN CERTIFICATE} blocks, leaf
 * first in a chain) and an unencrypted PKCS#8 private key ({@code BEGIN PRIVATE KEY}: RSA, EC,
 * Ed25519 or Ed448). Other key formats are refused with the command that converts them, rather
 * than guessed at.
 */
public final class PemFiles {

  /** Files larger than this are not PEM certificates or keys (a bound: a wrong path may name a big file). */
  private static final long FILE_BYTES_MAX = 1 << 20;
  private static final Pattern BLOCK = Pattern.compile(
      "-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]*?)-----END \\1-----");
  private static final List<String> KEY_ALGORITHMS = List.of("RSA", "EC", "Ed25519", "Ed448", "EdDSA");

  private PemFiles() {}

  /** Every certificate in {@code file}, in file order; at least one. */
  public static List<X509Certificate> certificates(Path file) {
    List<X509Certificate> certificates = new ArrayList<>();
    for (Block block : blocks(file)) {
      if (!block.type().equals("CERTIFICATE")) {
        continue; // a bundle may carry keys or parameters too; only certificates matter here
      }
      try {
        Certificate certificate = CertificateFactory.getInstance("X.509")
            .generateCertificate(new ByteArrayInputStream(block.der()));
        certificates.add((X509Certificate) certificate);
      } catch (CertificateException e) {
        throw new TlsFileException(file + ": a CERTIFICATE block is not a valid X.509 certificate: " + e.getMessage(), e);
      }
    }
    if (certificates.isEmpty()) {
      throw new TlsFileException(file + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
    }
    return List.copyOf(certificates);
  }

  /** The one unencrypted PKCS#8 private key in {@code file}. */
  public static PrivateKey privateKey(Path file) {
    List<Block> keys = blocks(file).stream().filter(block -> block.type().endsWith("PRIVATE KEY")).toList();
    if (keys.size() != 1) {
      throw new TlsFileException(file + " must hold exactly one private key, not " + keys.size());
    }
    Block key = keys.get(0);
    if (!key.type().equals("PRIVATE KEY")) {
      throw new TlsFileException(file + " holds a " + key.type() + "; an unencrypted PKCS#8 key (BEGIN PRIVATE KEY)"
          + " is needed: convert it with  openssl pkcs8 -topk8 -nocrypt -in <key> -out <new key>");
    }
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(key.der());
    for (String algorithm : KEY_ALGORITHMS) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(spec);
      } catch (GeneralSecurityException wrongAlgorithm) {
        // try the next one: PKCS#8 names its algorithm inside, but KeyFactory needs it up front
      }
    }
    throw new TlsFileException(file + " holds a PKCS#8 key that is not RSA, EC, Ed25519 or Ed448");
  }

  private record Block(String type, byte[] der) {}

  private static List<Block> blocks(Path file) {
    String text = read(file);
    List<Block> blocks = new ArrayList<>();
    Matcher matcher = BLOCK.matcher(text);
    while (matcher.find()) {
      try {
        blocks.add(new Block(matcher.group(1), Base64.getMimeDecoder().decode(matcher.group(2))));
      } catch (IllegalArgumentException e) {
        throw new TlsFileException(file + ": a " + matcher.group(1) + " block is not valid base64", e);
      }
    }
    if (blocks.isEmpty()) {
      throw new TlsFileException(file + " is not a PEM file (no -----BEGIN ...----- block)");
    }
    return blocks;
  }

  private static String read(Path file) {
    try {
      if (!Files.isRegularFile(file)) {
        throw new TlsFileException(file + " does not exist or is not a regular file");
      }
      if (Files.size(file) > FILE_BYTES_MAX) {
        throw new TlsFileException(file + " is larger than " + FILE_BYTES_MAX + " bytes: not a PEM certificate or key");
      }
      return Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new TlsFileException(file + " cannot be read: " + e.getMessage(), e);
    }
  }
}
