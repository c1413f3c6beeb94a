// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect
// metadata polyfill loaded first. Only `operator init` / `issue-cert` load this module.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { randomBytes, webcrypto, X509Certificate } from "node:crypto";
import { isIP } from "node:net";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const EC_KEY = { name: "ECDSA", namedCurve: "P-256" } as const;
const EC_SIGN = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY = 24 * 3600 * 1000;
/** Certificates start a little in the past so a client whose clock lags still accepts them. */
const BACKDATE = 5 * 60 * 1000;
export const CA_VALIDITY_DAYS = 3650;
export const SERVER_VALIDITY_DAYS = 365;
export const DEFAULT_DNS_NAMES: readonly string[] = ["localhost"];
export const DEFAULT_IP_ADDRESSES: readonly string[] = ["127.0.0.1", "::1"];

const DNS_NAME = /^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** Why a DNS name or IP address cannot go into a certificate, or undefined. */
export function nameProblem(kind: "dns" | "ip", value: string): string | undefined {
  if (kind === "ip") return isIP(value) === 0 ? `"${value}" is not an IPv4 or IPv6 address` : undefined;
  return value.length <= 253 && DNS_NAME.test(value) ? undefined : `"${value}" is not a valid DNS name`;
}

export interface CaMaterial {
  /** The CA certificate, PEM. */
  certPem: string;
  /** The CA private key, PKCS#8 DER. Store it only encrypted. */
  keyPkcs8: Buffer;
}

export interface ServerCertificate {
  /** The server certificate followed by the CA certificate, PEM. */
  chainPem: string;
  certPem: string;
  /** The server private key, PKCS#8 PEM. */
  keyPem: string;
}

/** A positive 16-byte serial number, hex. */
function serial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b.toString("hex");
}

async function exportPkcs8(key: webcrypto.CryptoKey): Promise<Buffer> {
  return Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key));
}

/** The instance CA: ECDSA P-256, self-signed, valid 10 years, may sign server certificates only (path length 0). */
export async function createInstanceCa(commonName: string, now: Date): Promise<CaMaterial> {
  const keys = (await webcrypto.subtle.generateKey(EC_KEY, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: [{ CN: [commonName] }, { O: ["Coffer"] }],
    notBefore: new Date(now.getTime() - BACKDATE),
    notAfter: new Date(now.getTime() + CA_VALIDITY_DAYS * DAY),
    signingAlgorithm: EC_SIGN,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString("pem"), keyPkcs8: await exportPkcs8(keys.privateKey) };
}

/** A server certificate signed by the instance CA: ECDSA P-256, 1 year, EKU serverAuth, the given SANs. */
export async function issueServerCertificate(ca: CaMaterial, names: { dnsNames: readonly string[]; ipAddresses: readonly string[] }, now: Date): Promise<ServerCertificate> {
  for (const d of names.dnsNames) {
    const p = nameProblem("dns", d);
    if (p) throw new Error(p);
  }
  for (const ip of names.ipAddresses) {
    const p = nameProblem("ip", ip);
    if (p) throw new Error(p);
  }
  if (names.dnsNames.length + names.ipAddresses.length === 0) throw new Error("a server certificate needs at least one DNS name or IP address");
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await webcrypto.subtle.importKey("pkcs8", ca.keyPkcs8, EC_KEY, false, ["sign"]);
  const keys = (await webcrypto.subtle.generateKey(EC_KEY, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const subject = names.dnsNames[0] ?? names.ipAddresses[0] ?? "coffer";
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: [{ CN: [subject] }, { O: ["Coffer"] }],
    issuer: caCert.subject,
    notBefore: new Date(now.getTime() - BACKDATE),
    notAfter: new Date(now.getTime() + SERVER_VALIDITY_DAYS * DAY),
    signingAlgorithm: EC_SIGN,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...names.dnsNames.map((value) => ({ type: "dns" as const, value })),
        ...names.ipAddresses.map((value) => ({ type: "ip" as const, value })),
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const certPem = cert.toString("pem");
  const keyDer = await exportPkcs8(keys.privateKey);
  const keyPem = x509.PemConverter.encode(keyDer, "PRIVATE KEY");
  keyDer.fill(0);
  return { certPem, keyPem: `${keyPem.trim()}\n`, chainPem: `${certPem.trim()}\n${ca.certPem.trim()}\n` };
}

/** The SHA-256 fingerprint of a PEM certificate, as `AB:CD:…` (what `openssl x509 -fingerprint -sha256` prints). */
export function fingerprintSha256(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}
