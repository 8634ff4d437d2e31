// Target resolution: what a dialled string reaches — a feature code, an extension, an inbound number, an outbound route.
import type { Extension } from '../directory/index.js';
import type { FeatureCodes } from './feature-codes.js';
import type { CallInboundMatch, CallInboundNumber } from './sip-host.js';

export type Destination =
  /** A star code registered on the feature-code registry (only extensions may dial them). */
  | { kind: 'feature'; handler: import('./feature-codes.js').FeatureHandler; digits: string }
  /** An extension of the site. */
  | { kind: 'extension'; extension: Extension }
  /** An inbound number (DID), reached through a trunk or dialled by an extension: its handling (scenario) decides who rings. */
  | { kind: 'number'; number: CallInboundNumber; fallback: Extension | undefined }
  /** An external number, through an outbound route. */
  | { kind: 'external'; number: string }
  | { kind: 'unknown' };

export interface TargetLookups {
  extensions: { findByNumber(number: string): Extension | undefined; list(): Extension[] };
  features: FeatureCodes;
  /** Whether an outbound route takes this number for this caller. */
  routable(number: string, callerExtension: string): boolean;
  /** Numbers a module serves (a queue's short number), for extensions only. */
  internal?: ((dialled: string) => import('./feature-codes.js').FeatureHandler | undefined) | undefined;
  /** One of the box's own numbers (DID) dialled by an extension; absent = such a call goes out like any number. */
  inboundNumber?: ((dialled: string) => CallInboundNumber | undefined) | undefined;
}

/**
 * Order (docs/calls.md "What a dialled number reaches"): a star code from an extension → the feature-code
 * registry; a number equal to an extension → that extension; from an extension, a number a module serves (a
 * queue's short number) → its handler; a DID matched on a trunk → the number; from an extension, one of the
 * box's own numbers → the number (its scenario runs as for a caller from outside); from an extension, anything an
 * outbound route takes → external; else unknown (404).
 */
export function resolveDestination(l: TargetLookups, dialled: string, trunk: CallInboundMatch | undefined, callerExt: Extension | undefined): Destination {
  if (dialled.startsWith('*')) {
    const f = callerExt ? l.features.match(dialled) : undefined;
    return f ? { kind: 'feature', handler: f.handler, digits: f.digits } : { kind: 'unknown' };
  }
  const ext = l.extensions.findByNumber(dialled);
  if (ext) return { kind: 'extension', extension: ext };
  const served = callerExt && !trunk ? l.internal?.(dialled) : undefined;
  if (served) return { kind: 'feature', handler: served, digits: dialled };
  const number = trunk ? trunk.number : callerExt ? l.inboundNumber?.(dialled) : undefined;
  if (number) {
    const users = number.userIds;
    // Without a scenario handler, the number rings the first extension of its assigned users.
    const fallback = l.extensions.list().find((e) => e.userId !== null && users.includes(e.userId));
    return { kind: 'number', number, fallback };
  }
  if (callerExt && l.routable(dialled, callerExt.number)) return { kind: 'external', number: dialled };
  return { kind: 'unknown' };
}
