// SDES offer/answer for one leg (RFC 4568 §5, §7): which a=crypto line of the remote's SDP the leg uses, refused
// with 488 when the policy or an RTP/SAVP offer needs SRTP and nothing usable is there.
import { MediaError, type RemoteAudio } from './engine.js';
import { cryptoAttribute, type SdesCrypto, type SrtpPolicy } from './sdes.js';

/**
 * The remote's crypto line this leg uses, or undefined for plain RTP. `weOfferedCrypto`: the SDP is the answer to
 * our offer that carried a=crypto (the answer then names one of our tags; RFC 4568 §7.1.2).
 */
export function chooseSrtp(remote: RemoteAudio, policy: SrtpPolicy, weOfferedCrypto = false): SdesCrypto | undefined {
  const usable = remote.crypto.filter((c) => !weOfferedCrypto || c.tag === 1 || c.tag === 2);
  const chosen = usable[0];
  if (!chosen && remote.profile === 'RTP/SAVP') {
    throw new MediaError('media.srtp_unsupported', 'RTP/SAVP without a usable a=crypto line: only SDES AES_CM_128_HMAC_SHA1_80 or _32, one inline key, no MKI');
  }
  if (!chosen && policy === 'mandatory') throw new MediaError('media.srtp_required', 'this extension requires SRTP and the SDP offers plain RTP');
  return chosen;
}

/** Our answer's crypto line: the chosen tag and suite with our key (RFC 4568 §7.1.1). */
export function answerCrypto(chosen: SdesCrypto, key: string): string {
  return cryptoAttribute(chosen.tag, chosen.suite, key);
}

/**
 * The profile of our offer: RTP/SAVP when SRTP is required, the profile the remote chose when the leg already runs
 * SRTP (a best-effort phone that offered RTP/AVP with a=crypto keeps getting that), else RTP/AVP.
 */
export function srtpProfile(policy: SrtpPolicy, inUse: 'RTP/AVP' | 'RTP/SAVP' | undefined): 'RTP/AVP' | 'RTP/SAVP' {
  return policy === 'mandatory' ? 'RTP/SAVP' : (inUse ?? 'RTP/AVP');
}

/**
 * For a backend that does SDES itself (rtpengine, which knows more suites than the built-in engine): an RTP/SAVP
 * SDP, or a leg whose policy requires SRTP, must carry at least one a=crypto line; the backend picks the suite.
 */
export function requireSdes(remote: RemoteAudio, sdp: string, policy: SrtpPolicy): void {
  const hasCrypto = /^a=crypto:/m.test(sdp);
  if (!hasCrypto && remote.profile === 'RTP/SAVP') throw new MediaError('media.srtp_unsupported', 'RTP/SAVP without an a=crypto line (SDES)');
  if (!hasCrypto && policy === 'mandatory') throw new MediaError('media.srtp_required', 'this extension requires SRTP and the SDP offers plain RTP');
}
