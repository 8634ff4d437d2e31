// The box's TLS certificate (console HTTPS, phone provisioning over HTTPS, later SIP over TLS): self-signed at first
// start with the openssl CLI, replaceable by an uploaded certificate + key that are checked before they are kept.
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Clock } from './clock.js';
import { RelaisError } from './errors.js';

const run = promisify(execFile);

export interface CertificateInfo {
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  fingerprint256: string;
  subjectAltName: string | undefined;
  selfSigned: boolean;
}

export interface BoxCertificateOptions {
  /** Folder holding cert.pem and key.pem (<dataDir>/tls). */
  dir: string;
  /** Common name of a generated certificate (the SIP domain or the box's name). */
  commonName: string;
  /** Extra subjectAltName entries of a generated certificate: IP addresses and DNS names. */
  altNames?: () => string[];
  /** Validity of a generated certificate in days (default 3650: phones cannot renew it). */
  days?: number;
  /** Judges an uploaded certificate's expiry (Relais' injected clock; the wall clock when absent). */
  clock?: Pick<Clock, 'now'>;
}

function certError(message: string, field: 'certificate' | 'key'): RelaisError {
  return new RelaisError('tls.invalid', message, { field });
}

/** The addresses a LAN client may use for the box (every non-internal IPv4 plus loopback). */
export function lanAddresses(): string[] {
  const out = ['127.0.0.1'];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) out.push(a.address);
  }
  return out;
}

/**
 * Checks that `certPem` is one or more PEM certificates (the box's first, then its chain) and `keyPem` an unencrypted
 * PEM private key matching the first certificate. Throws tls.invalid naming what is wrong.
 */
export function validateCertificatePair(certPem: string, keyPem: string, now: number = Date.now()): X509Certificate {
  const blocks = certPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!blocks) throw certError('the certificate is not PEM: it must contain a "-----BEGIN CERTIFICATE-----" block', 'certificate');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(blocks[0]);
    for (const b of blocks.slice(1)) new X509Certificate(b);
  } catch (err) {
    throw certError(`the certificate cannot be read: ${(err as Error).message}`, 'certificate');
  }
  if (!/-----BEGIN (?:RSA |EC )?PRIVATE KEY-----/.test(keyPem)) {
    throw certError(
      /ENCRYPTED PRIVATE KEY/.test(keyPem) ? 'the private key is encrypted: upload it without a passphrase' : 'the key is not a PEM private key ("-----BEGIN PRIVATE KEY-----")',
      'key',
    );
  }
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw certError(`the private key cannot be read: ${(err as Error).message}`, 'key');
  }
  if (!cert.checkPrivateKey(key)) throw certError('the private key does not belong to the certificate', 'key');
  if (Date.parse(cert.validTo) < now) throw certError(`the certificate expired on ${cert.validTo}`, 'certificate');
  // The public key must also be usable on its own (catches a certificate whose key type Node cannot use for TLS).
  createPublicKey(blocks[0]);
  return cert;
}

export class BoxCertificate {
  readonly certPath: string;
  readonly keyPath: string;
  private listeners: Array<() => void> = [];

  constructor(private readonly opts: BoxCertificateOptions) {
    this.certPath = path.join(opts.dir, 'cert.pem');
    this.keyPath = path.join(opts.dir, 'key.pem');
  }

  exists(): boolean {
    return fs.existsSync(this.certPath) && fs.existsSync(this.keyPath);
  }

  private ensuring: Promise<void> | undefined;

  /** Generates a self-signed certificate unless one is there (first start); HTTPS and SIP TLS share one run. */
  ensure(): Promise<void> {
    if (this.exists()) return Promise.resolve();
    this.ensuring ??= this.regenerate().then(
      () => {
        this.ensuring = undefined;
      },
      (err: unknown) => {
        this.ensuring = undefined;
        throw err;
      },
    );
    return this.ensuring;
  }

  /** A fresh self-signed certificate (RSA 2048: what every desk phone's TLS stack accepts). */
  async regenerate(): Promise<CertificateInfo> {
    fs.mkdirSync(this.opts.dir, { recursive: true, mode: 0o700 });
    const work = fs.mkdtempSync(path.join(this.opts.dir, '.new-'));
    try {
      const key = path.join(work, 'key.pem');
      const cert = path.join(work, 'cert.pem');
      const alt = [...new Set([...(this.opts.altNames?.() ?? lanAddresses()), this.opts.commonName])]
        .map((n) => (/^\d{1,3}(\.\d{1,3}){3}$/.test(n) ? `IP:${n}` : `DNS:${n}`))
        .join(',');
      try {
        await run('openssl', [
          'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256',
          '-days', String(this.opts.days ?? 3650),
          '-subj', `/CN=${this.opts.commonName.replace(/[/\\=]/g, '')}/O=Relais`,
          '-addext', `subjectAltName=${alt}`,
          '-keyout', key, '-out', cert,
        ], { timeout: 60_000 });
      } catch (err) {
        throw new RelaisError('tls.generate_failed', `the openssl command could not make a certificate (is the openssl package installed?): ${(err as Error).message.split('\n')[0]}`, { status: 500 });
      }
      this.install(fs.readFileSync(cert, 'utf8'), fs.readFileSync(key, 'utf8'));
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
    return this.info();
  }

  /** Replaces the certificate with an uploaded one after checking it (tls.invalid otherwise; the old one stays). */
  replace(certPem: string, keyPem: string): CertificateInfo {
    validateCertificatePair(certPem, keyPem, this.opts.clock?.now());
    this.install(certPem, keyPem);
    return this.info();
  }

  private install(certPem: string, keyPem: string): void {
    fs.mkdirSync(this.opts.dir, { recursive: true, mode: 0o700 });
    // Write both beside the live files, then rename: a crash never leaves a certificate without its key.
    fs.writeFileSync(`${this.keyPath}.new`, keyPem, { mode: 0o600 });
    fs.writeFileSync(`${this.certPath}.new`, certPem, { mode: 0o644 });
    fs.renameSync(`${this.keyPath}.new`, this.keyPath);
    fs.renameSync(`${this.certPath}.new`, this.certPath);
    for (const l of this.listeners) l();
  }

  /** PEM contents for a TLS server (tls.createSecureContext / https.createServer). */
  /** The certificate alone (public), undefined before one exists: what phones on TLS are told to trust. */
  certificatePem(): string | undefined {
    try {
      return fs.readFileSync(this.certPath, 'utf8');
    } catch {
      return undefined;
    }
  }

  pem(): { cert: string; key: string } {
    return { cert: fs.readFileSync(this.certPath, 'utf8'), key: fs.readFileSync(this.keyPath, 'utf8') };
  }

  info(): CertificateInfo {
    const cert = new X509Certificate(fs.readFileSync(this.certPath));
    return {
      subject: cert.subject,
      issuer: cert.issuer,
      validFrom: cert.validFrom,
      validTo: cert.validTo,
      fingerprint256: cert.fingerprint256,
      subjectAltName: cert.subjectAltName,
      selfSigned: cert.subject === cert.issuer && cert.verify(cert.publicKey),
    };
  }

  /** Called after every change (HTTPS and SIP TLS servers reload their secure context). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }
}
