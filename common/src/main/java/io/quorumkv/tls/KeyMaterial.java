package io.quorumkv.tls;

import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.List;

/** A certificate chain (leaf first) and the private key of its leaf: what a TLS endpoint presents. */
public record KeyMaterial(PrivateKey key, List<X509Certificate> chain) {

  public KeyMaterial {
    chain = List.copyOf(chain);
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("a certificate chain needs at least its leaf");
    }
  }

  /**
   * Reads a PEM certificate chain and a PKCS#8 key, refusing a key that does not belong to the
   * chain's first certificate (else every handshake would fail later, with a vaguer message).
   */
  public static KeyMaterial load(Path certificateFile, Path keyFile) {
    KeyMaterial material = new KeyMaterial(PemFiles.privateKey(keyFile), PemFiles.certificates(certificateFile));
    if (!material.keyMatchesLeaf()) {
      throw new TlsFileException(keyFile + " is not the private key of the first certificate in " + certificateFile
          + " (the chain starts with the replica's own certificate)");
    }
    return material;
  }

  public X509Certificate leaf() {
    return chain.get(0);
  }

  /** Signs a random challenge with the key and verifies it with the leaf's public key. */
  private boolean keyMatchesLeaf() {
    String algorithm = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      default -> key.getAlgorithm(); // Ed25519, Ed448, EdDSA name their own signature
    };
    try {
      byte[] challenge = new byte[32];
      new SecureRandom().nextBytes(challenge);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(challenge);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(leaf().getPublicKey());
      verifier.update(challenge);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false; // e.g. an RSA key against an EC certificate
    }
  }
}
