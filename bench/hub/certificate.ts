/**
 * A throwaway self-signed certificate for the hub benchmark's HTTPS (HTTP/2) runs, made with
 * `openssl` at run time in a temporary directory, with the paths the hub's `--tls-cert` and
 * `--tls-key` flags take. Not responsible for trust: the bench's clients do not check it.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface CertificateFiles {
  readonly certPath: string;
  readonly keyPath: string;
  /** Removes the temporary directory. */
  dispose(): void;
}

/** Makes a P-256 certificate for 127.0.0.1 and localhost, valid for one day; throws when openssl fails. */
export function selfSignedCertificate(): CertificateFiles {
  const dir = mkdtempSync(join(tmpdir(), "ssekit-bench-cert-"));
  const certPath = join(dir, "cert.pem");
  const keyPath = join(dir, "key.pem");
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
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return { certPath, keyPath, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
