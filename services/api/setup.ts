// First-run setup in the browser: while the first admin still has the generated password, whoever holds the one-time
// setup token printed on the terminal may choose the admin's password (then the token is spent).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { SettingsRepository, User, UserRepository } from '../directory/index.js';
import { RelaisError } from '../shared/index.js';

/** Set by the site bootstrap when it generated the first admin's password (nobody chose one yet). */
export const SETUP_PENDING_KEY = 'console.setup_pending';

export class FirstRunSetup {
  /** Lives only in memory: printed at each start while setup is pending, never stored. */
  private token: string | undefined;

  constructor(
    private readonly settings: SettingsRepository,
    private readonly users: UserRepository,
  ) {
    if (this.pending()) this.token = randomBytes(18).toString('base64url');
  }

  pending(): boolean {
    return this.settings.get(SETUP_PENDING_KEY) !== undefined;
  }

  /** The token to print on the terminal (undefined when there is nothing to set up). */
  setupToken(): string | undefined {
    return this.pending() ? this.token : undefined;
  }

  /** Checks the token and sets the admin's password; the admin (to log in), or 403. */
  complete(token: string, password: string): User {
    const expected = this.setupToken();
    const a = Buffer.from(token);
    const b = Buffer.from(expected ?? '');
    if (expected === undefined) throw new RelaisError('setup.done', 'first-run setup is already done; log in', { status: 409 });
    if (a.length !== b.length || !timingSafeEqual(a, b)) {
      throw new RelaisError('setup.token_invalid', 'the setup token is wrong: use the one printed on the appliance terminal at start', { status: 403, field: 'token' });
    }
    const admin = this.users.findByUsername(this.settings.getJson<string>(SETUP_PENDING_KEY) ?? 'admin') ?? this.users.list().find((u) => u.role === 'admin');
    if (!admin) throw new RelaisError('setup.no_admin', 'there is no administrator account to set up', { status: 409 });
    this.users.setPassword(admin.id, password);
    this.done();
    return this.users.require(admin.id);
  }

  /** An administrator chose a password some other way (API password change): the token is no longer needed. */
  done(): void {
    this.settings.delete(SETUP_PENDING_KEY);
    this.token = undefined;
  }
}
