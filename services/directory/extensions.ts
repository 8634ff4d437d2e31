// SIP extensions (phone accounts): credentials with precomputed digest HA1 (MD5 and SHA-256) for the realm.
import { prepared } from './prepared.js';
import { TableRepository } from './table-repository.js';
import { createHash, randomBytes } from 'node:crypto';
import type { Database } from '../storage/index.js';
import { RelaisError } from '../shared/index.js';

export type DigestAlgorithm = 'MD5' | 'SHA-256' | 'both';
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['MD5', 'SHA-256', 'both'];

export interface Extension {
  id: number;
  number: string;
  userId: number | null;
  displayName: string;
  sipUsername: string;
  secret: string;
  ha1Md5: string;
  ha1Sha256: string;
  digestAlgorithm: DigestAlgorithm;
  voicemailEnabled: boolean;
  voicemailPin: string | null;
  /** Only over SIP TLS with SRTP media: REGISTER over UDP/TCP refused (403), calls without SRTP refused (488). */
  requireTlsSrtp: boolean;
}

export interface ExtensionInput {
  number: string;
  userId?: number | null;
  displayName?: string;
  /** Defaults to the extension number. */
  sipUsername?: string;
  /** Defaults to a generated 16-character secret. */
  secret?: string;
  digestAlgorithm?: DigestAlgorithm;
  voicemailEnabled?: boolean;
  voicemailPin?: string | null;
  requireTlsSrtp?: boolean;
}

export type ExtensionPatch = Partial<ExtensionInput>;

interface ExtensionRow {
  id: number;
  number: string;
  user_id: number | null;
  display_name: string;
  sip_username: string;
  secret: string;
  ha1_md5: string;
  ha1_sha256: string;
  digest_algorithm: DigestAlgorithm;
  voicemail_enabled: number;
  voicemail_pin: string | null;
  require_tls_srtp: number;
}

/** RFC 2617 §3.2.2.2 / RFC 7616 §3.4.2: HA1 = H(username ":" realm ":" password), lower-case hex. */
export function computeHa1(algorithm: 'MD5' | 'SHA-256', username: string, realm: string, secret: string): string {
  return createHash(algorithm === 'MD5' ? 'md5' : 'sha256').update(`${username}:${realm}:${secret}`).digest('hex');
}

/** A SIP secret phones can type: 16 characters from an unambiguous alphabet. */
export function generateSecret(length = 16): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = randomBytes(length);
  let s = '';
  for (const b of bytes) s += alphabet[b % alphabet.length];
  return s;
}

const NUMBER_RE = /^[0-9]{2,8}$/;
const SIP_USER_RE = /^[A-Za-z0-9._~!$&'()*+,;=-]{1,64}$/;

function toExtension(r: ExtensionRow): Extension {
  return {
    id: r.id,
    number: r.number,
    userId: r.user_id,
    displayName: r.display_name,
    sipUsername: r.sip_username,
    secret: r.secret,
    ha1Md5: r.ha1_md5,
    ha1Sha256: r.ha1_sha256,
    digestAlgorithm: r.digest_algorithm,
    voicemailEnabled: r.voicemail_enabled === 1,
    voicemailPin: r.voicemail_pin,
    requireTlsSrtp: r.require_tls_srtp === 1,
  };
}

export class ExtensionRepository extends TableRepository<ExtensionRow, Extension> {
  /** @param realm the digest realm (= config.domain); HA1 values are computed for it. */
  constructor(
    db: Database,
    private realm: string,
    private readonly now: () => number = Date.now,
  ) {
    super(db, { table: 'extensions', what: 'extension', orderBy: 'number' });
  }

  get currentRealm(): string {
    return this.realm;
  }

  protected toEntity(r: ExtensionRow): Extension {
    return toExtension(r);
  }




  /** Frees every SIP username at once ('~id' placeholders) so a site import can move them between extensions. */
  releaseSipUsernames(): void {
    prepared(this.db, "UPDATE extensions SET sip_username = '~' || id").run();
  }

  findByNumber(number: string): Extension | undefined {
    return this.findOne('number', number);
  }

  findBySipUsername(username: string): Extension | undefined {
    return this.findOne('sip_username', username);
  }

  /** How many extensions use each digest algorithm setting (unknown users are challenged like a random one of them). */
  digestAlgorithmCounts(): Array<{ algorithm: DigestAlgorithm; count: number }> {
    return prepared(this.db, 'SELECT digest_algorithm AS algorithm, COUNT(*) AS count FROM extensions GROUP BY digest_algorithm ORDER BY digest_algorithm').all() as Array<{
      algorithm: DigestAlgorithm;
      count: number;
    }>;
  }

  listByUser(userId: number): Extension[] {
    return (prepared(this.db, 'SELECT * FROM extensions WHERE user_id = ? ORDER BY number').all(userId) as ExtensionRow[]).map(toExtension);
  }

  private check(number: string, sipUsername: string, alg: DigestAlgorithm, pin: string | null | undefined): void {
    if (!NUMBER_RE.test(number)) throw new RelaisError('extension.number_invalid', `extension number "${number}" must be 2 to 8 digits`, { field: 'number' });
    if (!SIP_USER_RE.test(sipUsername)) throw new RelaisError('extension.sip_username_invalid', `SIP username "${sipUsername}" has characters not allowed in a SIP user part`, { field: 'sipUsername' });
    if (!DIGEST_ALGORITHMS.includes(alg)) throw new RelaisError('extension.algorithm_invalid', `digest algorithm "${alg}" is not one of ${DIGEST_ALGORITHMS.join(', ')}`, { field: 'digestAlgorithm' });
    if (pin != null && !/^[0-9]{4,10}$/.test(pin)) throw new RelaisError('extension.pin_invalid', 'voicemail PIN must be 4 to 10 digits', { field: 'voicemailPin' });
  }

  create(input: ExtensionInput): Extension {
    const sipUsername = input.sipUsername ?? input.number;
    const secret = input.secret ?? generateSecret();
    // MD5 alone by default: SIPp, baresip and many desk phones give up when any challenge is not MD5 (peers/README).
    const alg = input.digestAlgorithm ?? 'MD5';
    this.check(input.number, sipUsername, alg, input.voicemailPin);
    if (secret.length < 8) throw new RelaisError('extension.secret_short', 'SIP secret must be at least 8 characters', { field: 'secret' });
    if (this.findByNumber(input.number)) throw new RelaisError('extension.exists', `extension ${input.number} already exists`, { field: 'number', status: 409 });
    if (this.findBySipUsername(sipUsername)) throw new RelaisError('extension.exists', `SIP username "${sipUsername}" is already used`, { field: 'sipUsername', status: 409 });
    const info = prepared(this.db, `INSERT INTO extensions (number, user_id, display_name, sip_username, secret, ha1_md5, ha1_sha256,
                  digest_algorithm, voicemail_enabled, voicemail_pin, require_tls_srtp, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(
        input.number,
        input.userId ?? null,
        input.displayName ?? '',
        sipUsername,
        secret,
        computeHa1('MD5', sipUsername, this.realm, secret),
        computeHa1('SHA-256', sipUsername, this.realm, secret),
        alg,
        (input.voicemailEnabled ?? true) ? 1 : 0,
        input.voicemailPin ?? null,
        input.requireTlsSrtp ? 1 : 0,
        this.now(),
      );
    return this.require(Number(info.lastInsertRowid));
  }

  update(id: number, patch: ExtensionPatch): Extension {
    const cur = this.require(id);
    const next = {
      number: patch.number ?? cur.number,
      userId: patch.userId === undefined ? cur.userId : patch.userId,
      displayName: patch.displayName ?? cur.displayName,
      sipUsername: patch.sipUsername ?? cur.sipUsername,
      secret: patch.secret ?? cur.secret,
      digestAlgorithm: patch.digestAlgorithm ?? cur.digestAlgorithm,
      voicemailEnabled: patch.voicemailEnabled ?? cur.voicemailEnabled,
      voicemailPin: patch.voicemailPin === undefined ? cur.voicemailPin : patch.voicemailPin,
      requireTlsSrtp: patch.requireTlsSrtp ?? cur.requireTlsSrtp,
    };
    this.check(next.number, next.sipUsername, next.digestAlgorithm, next.voicemailPin);
    if (next.secret.length < 8) throw new RelaisError('extension.secret_short', 'SIP secret must be at least 8 characters', { field: 'secret' });
    const byNumber = this.findByNumber(next.number);
    if (byNumber && byNumber.id !== id) throw new RelaisError('extension.exists', `extension ${next.number} already exists`, { field: 'number', status: 409 });
    const byUser = this.findBySipUsername(next.sipUsername);
    if (byUser && byUser.id !== id) throw new RelaisError('extension.exists', `SIP username "${next.sipUsername}" is already used`, { field: 'sipUsername', status: 409 });
    prepared(this.db, `UPDATE extensions SET number = ?, user_id = ?, display_name = ?, sip_username = ?, secret = ?, ha1_md5 = ?,
                  ha1_sha256 = ?, digest_algorithm = ?, voicemail_enabled = ?, voicemail_pin = ?, require_tls_srtp = ? WHERE id = ?`)
      .run(
        next.number,
        next.userId,
        next.displayName,
        next.sipUsername,
        next.secret,
        computeHa1('MD5', next.sipUsername, this.realm, next.secret),
        computeHa1('SHA-256', next.sipUsername, this.realm, next.secret),
        next.digestAlgorithm,
        next.voicemailEnabled ? 1 : 0,
        next.voicemailPin,
        next.requireTlsSrtp ? 1 : 0,
        id,
      );
    return this.require(id);
  }


  /** Recomputes every HA1 for a new realm (the domain changed); returns how many extensions were rehashed. */
  rehash(realm: string): number {
    this.realm = realm;
    const rows = prepared(this.db, 'SELECT id, sip_username, secret FROM extensions').all() as Pick<ExtensionRow, 'id' | 'sip_username' | 'secret'>[];
    const upd = prepared(this.db, 'UPDATE extensions SET ha1_md5 = ?, ha1_sha256 = ? WHERE id = ?');
    this.db.transaction(() => {
      for (const r of rows) {
        upd.run(computeHa1('MD5', r.sip_username, realm, r.secret), computeHa1('SHA-256', r.sip_username, realm, r.secret), r.id);
      }
    })();
    return rows.length;
  }
}
