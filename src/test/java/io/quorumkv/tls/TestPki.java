package io.quorumkv.tls;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A certificate authority for tests (BouncyCastle): issues replica certificates (server and
 * client authentication, IP or DNS names), client certificates, and expired ones, and writes
 * them as PEM files the way an operator would (chain, PKCS#8 key). EC P-256 keys: quick to make.
 */
public final class TestPki {

  private static final AtomicLong SERIALS = new AtomicLong(System.currentTimeMillis());

  private final KeyPair key;
  private final X509Certificate certificate;

  /** What a certificate is for. */
  public enum Usage { REPLICA, CLIENT, REPLICA_WITHOUT_CLIENT_AUTH }

  /** A certificate and its key. */
  public record Issued(X509Certificate certificate, KeyPair key, X509Certificate issuer) {

    /** Writes {@code <name>.pem} (certificate, then its CA) and {@code <name>-key.pem} (PKCS#8) into {@code dir}. */
    public void write(Path dir, String name) throws IOException {
      Files.createDirectories(dir);
      Files.writeString(dir.resolve(name + ".pem"), pem("CERTIFICATE", der(certificate)) + pem("CERTIFICATE", der(issuer)));
      Files.writeString(dir.resolve(name + "-key.pem"), pem("PRIVATE KEY", key.getPrivate().getEncoded()));
    }
  }

  private TestPki(KeyPair key, X509Certificate certificate) {
    this.key = key;
    this.certificate = certificate;
  }

  /** A new self-signed CA. */
  public static TestPki create(String name) {
    try {
      KeyPair key = newKey();
      Instant now = Instant.now();
      X500Name subject = new X500Name("CN=" + name);
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, serial(),
          Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(30))), subject, key.getPublic());
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      return new TestPki(key, sign(builder, key));
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public X509Certificate certificate() {
    return certificate;
  }

  /** Writes the CA certificate to {@code file}. */
  public void writeCertificate(Path file) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.writeString(file, pem("CERTIFICATE", der(certificate)));
  }

  /** A certificate valid for a day from an hour ago (clock skew between replicas is real). */
  public Issued issue(String commonName, Usage usage, List<String> names) {
    Instant now = Instant.now();
    return issue(commonName, usage, names, now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(1)));
  }

  /**
   * @param names subject alternative names: address literals become IP names, {@code otherName:X}
   *     an otherName (a user principal name X), the rest DNS names
   */
  public Issued issue(String commonName, Usage usage, List<String> names, Instant notBefore, Instant notAfter) {
    try {
      KeyPair subjectKey = newKey();
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(certificate, serial(), Date.from(notBefore),
          Date.from(notAfter), new X500Name("CN=" + commonName), subjectKey.getPublic());
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      List<KeyPurposeId> purposes = switch (usage) {
        case REPLICA -> List.of(KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth);
        case CLIENT -> List.of(KeyPurposeId.id_kp_clientAuth);
        case REPLICA_WITHOUT_CLIENT_AUTH -> List.of(KeyPurposeId.id_kp_serverAuth);
      };
      builder.addExtension(Extension.extendedKeyUsage, false,
          new ExtendedKeyUsage(purposes.toArray(new KeyPurposeId[0])));
      if (!names.isEmpty()) {
        List<GeneralName> general = new ArrayList<>();
        for (String name : names) {
          if (name.startsWith("otherName:")) { // a user principal name, as company client certificates carry
            general.add(new GeneralName(GeneralName.otherName, new org.bouncycastle.asn1.DERSequence(
                new org.bouncycastle.asn1.ASN1Encodable[] {new org.bouncycastle.asn1.ASN1ObjectIdentifier(
                    "1.3.6.1.4.1.311.20.2.3"), new org.bouncycastle.asn1.DERTaggedObject(true, 0,
                    new org.bouncycastle.asn1.DERUTF8String(name.substring("otherName:".length())))})));
            continue;
          }
          boolean address = name.contains(":") || name.matches("\\d{1,3}(\\.\\d{1,3}){3}");
          general.add(new GeneralName(address ? GeneralName.iPAddress : GeneralName.dNSName, name));
        }
        builder.addExtension(Extension.subjectAlternativeName, false,
            new GeneralNames(general.toArray(new GeneralName[0])));
      }
      return new Issued(sign(builder, key), subjectKey, certificate);
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The layout {@code kv torture --tls-dir} and {@code bin/local-cluster.sh --tls} use: ca.pem,
   * peer0..2 for 127.0.0.1, and a client certificate.
   */
  public static TestPki writeClusterDirectory(Path dir) throws IOException {
    TestPki ca = create("QuorumKV test CA");
    ca.writeCertificate(dir.resolve("ca.pem"));
    for (int i = 0; i < 3; i++) {
      ca.issue("peer" + i, Usage.REPLICA, List.of("127.0.0.1", "localhost")).write(dir, "peer" + i);
    }
    ca.issue("client", Usage.CLIENT, List.of()).write(dir, "client");
    return ca;
  }

  private static KeyPair newKey() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(256);
    return generator.generateKeyPair();
  }

  private static BigInteger serial() {
    return BigInteger.valueOf(SERIALS.incrementAndGet());
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair signer) throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter()
          .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
    } catch (org.bouncycastle.operator.OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }

  private static byte[] der(X509Certificate certificate) {
    try {
      return certificate.getEncoded();
    } catch (java.security.cert.CertificateEncodingException e) {
      throw new IllegalStateException(e);
    }
  }

  static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }
}
