// The path of an inbound call: every step the interpreter took, in the site file's own words (call inbox, simulator).

/**
 * One step. `type` is the action type (or a number-level stage: `forward`, `unavailable`, `offline`, `welcome`,
 * `scenario`, `ring_users`, `end`); the action's own fields follow as the site file writes them (`user`, `to`,
 * `queue`, `scenario`, `prompt`, …, but not nested option lists); then what happened.
 */
export interface PathStep {
  type: string;
  [field: string]: unknown;
  /** The step's `when` did not match (reason says so) — or the stage did not apply. */
  skipped?: true;
  reason?: string;
  /** How it ended: answered, no-answer, busy, unavailable, failed, closed, ended, key, no_match, collected, invalid… */
  result?: string;
  /** detect_dtmf: the key pressed and the option (service) chosen. */
  key?: string;
  option?: string;
  /** collect_digits: what was keyed in and where it is kept. */
  digits?: string;
}

/** Copies an action's own fields (scalars and conditions; not nested action lists) for the path. */
export function actionFields(action: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(action)) {
    if (k === 'options' || k === 'no_match' || k === 'actions') continue;
    out[k] = v;
  }
  return out;
}
