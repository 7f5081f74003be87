/**
 * Throwaway self-signed certificates for the tests (and the hub bench) that run the hub over TLS:
 * a P-256 key and a certificate for 127.0.0.1 and localhost, valid for one day, made with `openssl`
 * now in a temporary directory. Not responsible for trust: the clients skip verification.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Certificate {
  /** The certificate and the key, PEM. */
  readonly cert: string;
  readonly key: string;
  /** The same as files, for `--tls-cert` and `--tls-key`. */
  readonly certPath: string;
  readonly keyPath: string;
  /** Removes the temporary directory. */
  dispose(): void;
}

/** Makes a certificate; throws when openssl fails (it is a prerequisite of the suite). */
export function selfSignedCertificate(): Certificate {
  const dir = mkdtempSync(join(tmpdir(), "ssekit-cert-"));
  const certPath = join(dir, "cert.pem");
  const keyPath = join(dir, "key.pem");
  const dispose = () => rmSync(dir, { recursive: true, force: true });
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        keyPath,
        "-out",
        certPath,
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=IP:127.0.0.1,DNS:localhost",
      ],
      { stdio: "ignore" },
    );
    return {
      cert: readFileSync(certPath, "utf8"),
      key: readFileSync(keyPath, "utf8"),
      certPath,
      keyPath,
      dispose,
    };
  } catch (error) {
    dispose();
    throw error;
  }
}
