// Users of the console and the phones: scrypt password hashes, role and rights.
import { prepared } from './prepared.js';
import { TableRepository } from './table-repository.js';
import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import type { Database } from '../storage/index.js';
import { RelaisError, NotFoundError } from '../shared/index.js';

export type Role = 'admin' | 'user';
export const ROLES: readonly Role[] = ['admin', 'user'];

/**
 * Rights a plain user can be granted (admins have them all). Each opens one console module:
 * scenarios (docs/product.md §1: see and edit call scenarios), queues (queues and participants), history (call
 * history and recordings), calls (handle new calls: jobs, spam, close), callbacks, numbers, sounds,
 * phones, trunks, users, settings.
 */
export const RIGHTS = ['scenarios', 'queues', 'history', 'calls', 'callbacks', 'numbers', 'sounds', 'phones', 'trunks', 'users', 'settings'] as const;
export type Right = (typeof RIGHTS)[number];

export interface User {
  id: number;
  username: string;
  name: string;
  email: string | null;
  role: Role;
  rights: string[];
  language: string;
  dnd: boolean;
  hasPassword: boolean;
  createdAt: number;
}

export interface UserInput {
  username: string;
  name?: string;
  email?: string | null;
  role?: Role;
  rights?: string[];
  language?: string;
  dnd?: boolean;
  /** Plain password; hashed with scrypt before it is stored. */
  password?: string;
}

export type UserPatch = Partial<Omit<UserInput, 'username'>> & { username?: string };

interface UserRow {
  id: number;
  username: string;
  name: string;
  email: string | null;
  role: Role;
  rights: string;
  language: string;
  password_hash: string | null;
  dnd: number;
  created_at: number;
}

// scrypt cost: N=16384, r=8, p=1 (node's default, ~50 ms on a Pi 4); stored with the hash so it can be raised later.
const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };

/** `scrypt$N$r$p$salt$hash` (salt and hash base64). */
export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** The parts of a stored `scrypt$N$r$p$salt$hash`, or undefined when it is not one. */
function parseHash(stored: string): { salt: Buffer; expected: Buffer; opts: { N: number; r: number; p: number; maxmem: number } } | undefined {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [, n, r, p, saltB64, hashB64] = parts as [string, string, string, string, string, string];
  return {
    salt: Buffer.from(saltB64, 'base64'),
    expected: Buffer.from(hashB64, 'base64'),
    opts: { N: Number(n), r: Number(r), p: Number(p), maxmem: 256 * Number(n) * Number(r) },
  };
}

export function verifyPasswordHash(password: string, stored: string): boolean {
  const h = parseHash(stored);
  if (!h) return false;
  const actual = scryptSync(password, h.salt, h.expected.length, h.opts);
  return actual.length === h.expected.length && timingSafeEqual(actual, h.expected);
}

/** verifyPasswordHash on libuv's thread pool: a login does not stall SIP and RTP control on the main thread. */
export async function verifyPasswordHashAsync(password: string, stored: string): Promise<boolean> {
  const h = parseHash(stored);
  if (!h) return false;
  const actual = await new Promise<Buffer>((resolve, reject) => scrypt(password, h.salt, h.expected.length, h.opts, (err, key) => (err ? reject(err) : resolve(key))));
  return actual.length === h.expected.length && timingSafeEqual(actual, h.expected);
}

let dummyHash: string | undefined;

const USERNAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export function checkUsername(username: string): void {
  if (!USERNAME_RE.test(username)) {
    throw new RelaisError('user.username_invalid', `username "${username}" must be lower-case letters, digits, ".", "_" or "-" (1-64, starting with a letter or digit)`, { field: 'username' });
  }
}

export function checkRights(rights: readonly string[]): void {
  for (const r of rights) {
    if (!(RIGHTS as readonly string[]).includes(r)) throw new RelaisError('user.right_invalid', `right "${r}" is not one of ${RIGHTS.join(', ')}`, { field: 'rights' });
  }
}

export function checkPassword(password: string): void {
  if (password.length < 8) throw new RelaisError('user.password_short', 'password must be at least 8 characters', { field: 'password' });
}

function toUser(r: UserRow): User {
  return {
    id: r.id,
    username: r.username,
    name: r.name,
    email: r.email,
    role: r.role,
    rights: JSON.parse(r.rights) as string[],
    language: r.language,
    dnd: r.dnd === 1,
    hasPassword: r.password_hash !== null,
    createdAt: r.created_at,
  };
}

export class UserRepository extends TableRepository<UserRow, User> {
  constructor(db: Database, private readonly now: () => number = Date.now) {
    super(db, { table: 'users', what: 'user' });
  }

  protected toEntity(r: UserRow): User {
    return toUser(r);
  }



  /** Do-not-disturb of a user (its phones do not ring), read per call so a change applies at once. */
  isDnd(id: number): boolean {
    return (prepared(this.db, 'SELECT dnd FROM users WHERE id = ?').get(id) as { dnd: number } | undefined)?.dnd === 1;
  }

  findByUsername(username: string): User | undefined {
    return this.findOne('username', username);
  }


  hasAdmin(): boolean {
    return prepared(this.db, "SELECT 1 FROM users WHERE role = 'admin' LIMIT 1").get() !== undefined;
  }

  create(input: UserInput, { assignToAllNumbers = true }: { assignToAllNumbers?: boolean } = {}): User {
    checkUsername(input.username);
    const role = input.role ?? 'user';
    if (!ROLES.includes(role)) throw new RelaisError('user.role_invalid', `role "${role}" is not one of ${ROLES.join(', ')}`, { field: 'role' });
    if (this.findByUsername(input.username)) throw new RelaisError('user.exists', `user "${input.username}" already exists`, { field: 'username', status: 409 });
    if (input.password !== undefined) checkPassword(input.password);
    checkRights(input.rights ?? []);
    const info = prepared(this.db, `INSERT INTO users (username, name, email, role, rights, language, password_hash, dnd, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(
        input.username,
        input.name ?? '',
        input.email ?? null,
        role,
        JSON.stringify(input.rights ?? []),
        input.language ?? 'en',
        input.password === undefined ? null : hashPassword(input.password),
        input.dnd ? 1 : 0,
        this.now(),
      );
    const id = Number(info.lastInsertRowid);
    // docs/product.md §4: a new user is assigned to all numbers.
    if (assignToAllNumbers) prepared(this.db, 'INSERT OR IGNORE INTO number_users (number_id, user_id) SELECT id, ? FROM numbers').run(id);
    return this.require(id);
  }

  update(id: number, patch: UserPatch): User {
    const cur = this.require(id);
    if (patch.username !== undefined && patch.username !== cur.username) {
      checkUsername(patch.username);
      if (this.findByUsername(patch.username)) throw new RelaisError('user.exists', `user "${patch.username}" already exists`, { field: 'username', status: 409 });
    }
    if (patch.rights !== undefined) checkRights(patch.rights);
    if (patch.role !== undefined && !ROLES.includes(patch.role)) throw new RelaisError('user.role_invalid', `role "${patch.role}" is not one of ${ROLES.join(', ')}`, { field: 'role' });
    prepared(this.db, `UPDATE users SET username = ?, name = ?, email = ?, role = ?, rights = ?, language = ?, dnd = ? WHERE id = ?`)
      .run(
        patch.username ?? cur.username,
        patch.name ?? cur.name,
        patch.email === undefined ? cur.email : patch.email,
        patch.role ?? cur.role,
        JSON.stringify(patch.rights ?? cur.rights),
        patch.language ?? cur.language,
        (patch.dnd ?? cur.dnd) ? 1 : 0,
        id,
      );
    if (patch.password !== undefined) this.setPassword(id, patch.password);
    return this.require(id);
  }

  setPassword(id: number, password: string): void {
    checkPassword(password);
    const info = prepared(this.db, 'UPDATE users SET password_hash = ? WHERE id = ?').run(hashPassword(password), id);
    if (info.changes === 0) throw new NotFoundError('user', id);
  }

  /** Stores an already hashed password (a site file carrying password_hash). */
  setPasswordHash(id: number, hash: string): void {
    const info = prepared(this.db, 'UPDATE users SET password_hash = ? WHERE id = ?').run(hash, id);
    if (info.changes === 0) throw new NotFoundError('user', id);
  }

  /** The stored password hash (site file export), null when the user has none. */
  passwordHash(id: number): string | null {
    return (prepared(this.db, 'SELECT password_hash FROM users WHERE id = ?').get(id) as { password_hash: string | null } | undefined)?.password_hash ?? null;
  }

  /** The user when username and password match, else undefined (same answer for unknown user and wrong password). */
  verify(username: string, password: string): User | undefined {
    const r = prepared(this.db, 'SELECT * FROM users WHERE username = ?').get(username) as UserRow | undefined;
    if (!r || r.password_hash === null) return undefined;
    return verifyPasswordHash(password, r.password_hash) ? toUser(r) : undefined;
  }

  /** verify() without blocking the event loop (the console's logins). */
  async verifyAsync(username: string, password: string): Promise<User | undefined> {
    const r = prepared(this.db, 'SELECT * FROM users WHERE username = ?').get(username) as UserRow | undefined;
    if (!r || r.password_hash === null) {
      // The same work as for a real user: the answer time must not tell which usernames exist.
      dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
      await verifyPasswordHashAsync(password, dummyHash);
      return undefined;
    }
    return (await verifyPasswordHashAsync(password, r.password_hash)) ? toUser(r) : undefined;
  }

  /** Admins have every right; users have the rights listed. */
  hasRight(user: User, right: Right): boolean {
    return user.role === 'admin' || user.rights.includes(right);
  }

}
