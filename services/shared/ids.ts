// Identifiers: random tokens for SIP tags/branches/Call-IDs and call ids.
import { randomBytes, randomUUID } from 'node:crypto';

export function randomToken(bytes = 8): string {
  return randomBytes(bytes).toString('hex');
}

export function newId(): string {
  return randomUUID();
}
