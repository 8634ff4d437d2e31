// Asks a registered phone to fetch its configuration again (and maybe reboot): an out-of-dialog NOTIFY with the
// vendor's check-sync event, sent to the contact it registered, through the SIP stack.
import { RelaisError, type Clock } from '../shared/index.js';
import type { PresenceSipHost, SipResponse } from '../sip/index.js';
import type { ProvisioningService } from './provisioning-service.js';
import { VENDORS } from './vendors/index.js';

/** Out-of-dialog requests, as the presence server sends its NOTIFYs. */
export type CheckSyncSipHost = Pick<PresenceSipHost, 'request'>;

export interface RegisteredContact {
  aor: string;
  contact: string;
  source: { transport: 'udp' | 'tcp' | 'tls'; address: string; port: number; connectionId?: string | undefined };
}

export interface CheckSyncResult {
  mac: string;
  event: string;
  contact: string;
  status: number;
  reason: string;
}

export async function sendCheckSync(
  deps: { service: ProvisioningService; sip: CheckSyncSipHost; contacts: (extensionId: number) => RegisteredContact[]; clock: Clock },
  mac: string,
  reboot: boolean,
): Promise<CheckSyncResult> {
  const phone = deps.service.requirePhone(mac);
  if (phone.extensionId === null) throw new RelaisError('phone.not_registered', `phone ${phone.mac} has no extension, so it is not registered and cannot be asked to re-fetch`, { status: 409 });
  const contacts = deps.contacts(phone.extensionId);
  const ip = deps.service.inventory.get(phone.mac)?.ip;
  const c = contacts.find((b) => b.source.address === ip) ?? contacts[0];
  if (!c) throw new RelaisError('phone.not_registered', `phone ${phone.mac} is not registered: it cannot be asked to re-fetch (power it off and on instead)`, { status: 409 });
  const event = VENDORS[phone.vendor].checkSyncEvent(reboot);
  let res: SipResponse;
  try {
    res = await deps.sip.request({
      method: 'NOTIFY',
      uri: c.contact,
      headers: { To: `<${c.aor}>`, Event: event, 'Subscription-State': 'terminated' },
      target: c.source,
    });
  } catch (err) {
    const result = { mac: phone.mac, event, contact: c.contact, status: 0, reason: (err as Error).message };
    deps.service.inventory.recordCheckSync(phone.mac, deps.clock.now(), `failed: ${result.reason}`);
    return result;
  }
  deps.service.inventory.recordCheckSync(phone.mac, deps.clock.now(), `${res.status} ${res.reason}`);
  return { mac: phone.mac, event, contact: c.contact, status: res.status, reason: res.reason };
}
