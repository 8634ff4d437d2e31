// Which SRTP policy a call leg gets (docs/security.md, "SIP over TLS and SRTP"): an extension that requires TLS + SRTP
// gets RTP/SAVP and nothing else; a phone reached only over TLS is offered SDES best effort (RTP/AVP with
// a=crypto, which a phone without SRTP ignores); everything else plain RTP. Keys only ever travel over TLS.
import type { Extension, ExtensionRepository } from '../directory/index.js';
import type { SrtpPolicy } from '../media/index.js';
import type { CallRegistrar } from './sip-host.js';
import type { RingTarget } from './ring-engine.js';

/** The policy of the caller's leg: the offer came with the INVITE, so only "required" changes anything. */
export function callerSrtpPolicy(caller: Extension | undefined): SrtpPolicy {
  return caller?.requireTlsSrtp ? 'mandatory' : 'off';
}

/** The extensions `targets` ring (users' extensions included; external numbers have none). */
function targetExtensions(targets: readonly RingTarget[], extensions: ExtensionRepository): Extension[] {
  const out: Extension[] = [];
  for (const t of targets) {
    if (t.kind === 'extension') {
      const e = extensions.findByNumber(t.number);
      if (e) out.push(e);
    } else if (t.kind === 'user') out.push(...extensions.listByUser(t.userId));
  }
  return out;
}

/**
 * The policy of the callee leg (one offer goes to every branch): 'mandatory' when a target requires it, 'optional'
 * when every phone that will ring is registered over TLS, else 'off'.
 */
export function calleeSrtpPolicy(targets: readonly RingTarget[], extensions: ExtensionRepository, registrar: CallRegistrar): SrtpPolicy {
  if (targets.some((t) => t.kind === 'external')) return 'off';
  const exts = targetExtensions(targets, extensions);
  if (exts.some((e) => e.requireTlsSrtp)) return 'mandatory';
  const bindings = exts.flatMap((e) => registrar.lookup(e.number));
  return bindings.length > 0 && bindings.every((b) => b.source.transport === 'tls') ? 'optional' : 'off';
}
