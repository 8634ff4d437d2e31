// The `callback` action's confirmation dialog: the number is read back, 1 confirms, 2 keys another; a withheld caller keys one in.
import type { Language } from '../directory/index.js';
import type { CallPort, Utterance } from './call-port.js';

/** Tries at the question (no key, a wrong key, too short a number) before the offer is given up. */
export const CALLBACK_DIALOG_ATTEMPTS = 3;
/** Seconds to wait for the first key of a number, then between its keys (docs/scenarios.md, callback). */
const NUMBER_FIRST_KEY_MS = 10_000;
const NUMBER_NEXT_KEY_MS = 5_000;
/** Seconds to wait for 1 or 2 after the read-back. */
const CONFIRM_KEY_MS = 6_000;
/** A number to call back: 2 to 20 digits (as the queue's callbacks accept). */
const NUMBER_RE = /^[0-9]{2,20}$/;

export type CallbackDialogResult =
  /** The caller pressed 1 after hearing `number`. */
  | { outcome: 'confirmed'; number: string; keyedIn: boolean }
  /** The caller hung up before confirming: a lost call, not a callback. */
  | { outcome: 'gone'; number: string | undefined }
  /** No confirmation after CALLBACK_DIALOG_ATTEMPTS tries: no callback, the scenario goes on. */
  | { outcome: 'unconfirmed'; number: string | undefined };

/**
 * SPEC §7 / docs/product.md: a CallBack offer reads the number back for confirmation (1 to confirm, 2 to key another);
 * with a withheld caller ID the caller must key one in. `known` is the number known so far (a collected
 * callback_number, else the caller ID when it is not withheld).
 */
export async function confirmCallbackNumber(port: CallPort, language: Language, known: string | undefined): Promise<CallbackDialogResult> {
  let number = known !== undefined ? dialable(known) : undefined;
  let keyedIn = false;
  if (!(await port.answer())) return { outcome: 'gone', number };
  for (let attempt = 0; attempt < CALLBACK_DIALOG_ATTEMPTS; attempt++) {
    if (port.gone()) return { outcome: 'gone', number };
    if (number === undefined) {
      port.clearDigits();
      await port.play([{ prompt: 'enter-phone-number', language }], { bargeIn: true });
      const keyed = await port.readDigits({ max: 20, firstTimeoutMs: NUMBER_FIRST_KEY_MS, interDigitMs: NUMBER_NEXT_KEY_MS, endKey: '#' });
      if (port.gone()) return { outcome: 'gone', number };
      if (!NUMBER_RE.test(keyed)) {
        if (keyed !== '') await port.play([{ prompt: 'invalid-option', language }]);
        continue;
      }
      number = keyed;
      keyedIn = true;
    }
    port.clearDigits();
    await port.play(readBack(number, language), { bargeIn: true });
    const key = await port.readDigits({ max: 1, firstTimeoutMs: CONFIRM_KEY_MS });
    if (port.gone()) return { outcome: 'gone', number };
    if (key === '1') return { outcome: 'confirmed', number, keyedIn };
    if (key === '2') {
      number = undefined;
      continue;
    }
    if (key !== '') await port.play([{ prompt: 'invalid-option', language }]);
  }
  return { outcome: port.gone() ? 'gone' : 'unconfirmed', number };
}

/** "Your number is 0 6 1 2 …. To confirm, press 1. To enter another number, press 2." — digit prompts in the call's language. */
export function readBack(number: string, language: Language): Utterance[] {
  return [
    { prompt: 'your-number-is', language },
    // A leading + has no prompt: the digits alone are read.
    ...[...number.replace(/^\+/, '')].map((d): Utterance => ({ prompt: `number-${d}`, language })),
    { prompt: 'confirm-or-reenter', language },
  ];
}

/** The digits to call back, or undefined for a withheld / anonymous / non-numeric caller ID (then keyed in). */
export function dialable(n: string): string | undefined {
  const s = n.trim().toLowerCase();
  if (s === '' || s.startsWith('anonymous') || s.startsWith('unknown') || s.includes('anonymous.invalid') || s === 'restricted') return undefined;
  const user = /^(?:sips?:)?([^@;]*)/.exec(s)?.[1] ?? s;
  const plus = user.trim().startsWith('+') ? '+' : '';
  const digits = user.replace(/[^0-9]/g, '');
  return NUMBER_RE.test(digits) ? plus + digits : undefined;
}
