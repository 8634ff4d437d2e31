// SIP plug-and-play (the ua-profile event package of the SIP configuration framework, as Yealink, Snom, Polycom and
// others send it): SUBSCRIBE Event: ua-profile → 200, then a NOTIFY whose application/url body is where to fetch.
// Phones multicast the SUBSCRIBE to 224.0.1.75:5060 at boot; some send it to a configured server directly.
import dgram from 'node:dgram';
import { randomToken, errorMessage, type Clock, type Logger, type TimerHandle } from '../shared/index.js';
import type { HandleResult, PresenceSipHost, SipRequest } from '../sip/index.js';
import { normaliseMac } from '../directory/index.js';
import type { ProvisioningService } from './provisioning-service.js';
import { vendorFromUserAgent } from './vendors/index.js';

/** IANA "SIP" multicast address (RFC 3261 §10.1 reserves it; SIP PnP uses it). */
export const PNP_GROUP = '224.0.1.75';

type Source = { transport: 'udp' | 'tcp' | 'tls'; address: string; port: number; connectionId?: string | undefined };

/** The part of SipStack plug-and-play needs: out-of-dialog requests as presence sends them, and the transport. */
export interface PnpSipHost {
  request: PresenceSipHost['request'];
  readonly transport: {
    readonly advertisedAddress: string;
    onMessage(buf: Buffer, source: Source): void;
    setMulticast(group: string, iface: string, join: boolean): boolean;
  };
  contactFor(transport: 'udp' | 'tcp' | 'tls'): string;
}

export interface PnpOptions {
  service: ProvisioningService;
  sip: PnpSipHost;
  /** The SIP bind address: 0.0.0.0 joins the group on the SIP socket itself, an address gets a group socket. */
  bind: string;
  sipPort: number;
  clock: Clock;
  logger: Logger;
  /** How often the on/off setting is looked at again (it may change through a site import). Default 5 s. */
  settingsPollMs?: number;
}

export interface PnpEvents {
  answered: { mac: string | undefined; url: string; status: number };
}

/** Parameters of an Event header value: ua-profile;profile-type="device";vendor="Yealink";model="T46S";version="…". */
function eventParams(value: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of value.split(';').slice(1)) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    out.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim().replace(/^"|"$/g, ''));
  }
  return out;
}

/** The MAC a PnP SUBSCRIBE carries: From user "MAC%3a001565aabbcc" (Yealink, Snom), or the Request-URI user. */
export function macOfSubscribe(req: SipRequest): string | undefined {
  const users = [req.from().uri.user, req.ruri.user, req.to().uri.user];
  for (const u of users) {
    if (!u) continue;
    let text = u;
    try {
      text = decodeURIComponent(u);
    } catch {
      /* keep it as sent */
    }
    const m = /([0-9a-f]{2}(?:[:-]?[0-9a-f]{2}){5})$/i.exec(text);
    const mac = m ? normaliseMac(m[1]!) : undefined;
    if (mac) return mac;
  }
  return undefined;
}

export class PnpResponder {
  private groupSocket: dgram.Socket | undefined;
  private joinedOnSip = false;
  private pollTimer: TimerHandle | undefined;
  private readonly log: Logger;
  private running = false;
  readonly counters = { subscribes: 0, notifies: 0, notifyFailures: 0 };
  /** Last answer (tests and health). */
  last: PnpEvents['answered'] | undefined;
  private onAnswered: ((e: PnpEvents['answered']) => void) | undefined;

  constructor(private readonly opts: PnpOptions) {
    this.log = opts.logger.child({ module: 'pnp' });
  }

  /** Observer for every NOTIFY sent (status 0: it failed). */
  observe(fn: (e: PnpEvents['answered']) => void): void {
    this.onAnswered = fn;
  }

  async start(): Promise<void> {
    this.running = true;
    await this.applySettings();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.opts.clock.clearTimeout(this.pollTimer);
    await this.leave();
  }

  listening(): 'sip-socket' | 'group-socket' | 'off' {
    return this.joinedOnSip ? 'sip-socket' : this.groupSocket ? 'group-socket' : 'off';
  }

  /** Joins or leaves the multicast group to match the phones_pnp setting; re-checked every few seconds. */
  async applySettings(): Promise<void> {
    this.opts.clock.clearTimeout(this.pollTimer);
    if (!this.running) return;
    try {
      const on = this.opts.service.settings().pnp;
      if (on && this.listening() === 'off') await this.join();
      else if (!on && this.listening() !== 'off') await this.leave();
    } catch (err) {
      this.log.warn('SIP plug-and-play multicast not available', { error: errorMessage(err) });
    }
    this.pollTimer = this.opts.clock.setTimeout(() => void this.applySettings(), this.opts.settingsPollMs ?? 5000);
  }

  private async join(): Promise<void> {
    const { bind, sip } = this.opts;
    // Only the LAN: the group is joined on the interface of the box's own address, never on every interface.
    const iface = bind === '0.0.0.0' ? sip.transport.advertisedAddress : bind;
    if (bind === '0.0.0.0') {
      this.joinedOnSip = sip.transport.setMulticast(PNP_GROUP, iface, true);
      if (this.joinedOnSip) this.log.info('SIP plug-and-play: listening on the multicast group', { group: PNP_GROUP, port: this.opts.sipPort, iface });
      return;
    }
    // Bound to one address, the SIP socket never sees group traffic: a socket bound to the group and port feeds
    // what it receives into the SIP stack, whose answers leave from the SIP socket as usual.
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    socket.on('message', (buf, rinfo) => sip.transport.onMessage(buf, { transport: 'udp', address: rinfo.address, port: rinfo.port }));
    socket.on('error', (err) => this.log.warn('pnp group socket error', { error: err.message }));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.opts.sipPort, PNP_GROUP, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    try {
      socket.addMembership(PNP_GROUP, iface);
    } catch (err) {
      socket.close();
      throw err;
    }
    this.groupSocket = socket;
    this.log.info('SIP plug-and-play: listening on the multicast group', { group: PNP_GROUP, port: this.opts.sipPort, iface });
  }

  private async leave(): Promise<void> {
    if (this.joinedOnSip) {
      const iface = this.opts.bind === '0.0.0.0' ? this.opts.sip.transport.advertisedAddress : this.opts.bind;
      this.opts.sip.transport.setMulticast(PNP_GROUP, iface, false);
      this.joinedOnSip = false;
    }
    const s = this.groupSocket;
    this.groupSocket = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  /** The ua-profile SUBSCRIBE (multicast or direct): 200, then the NOTIFY with the URL (after the response). */
  handle(req: SipRequest, source: Source): HandleResult {
    this.counters.subscribes++;
    const service = this.opts.service;
    if (!service.settings().pnp) return { status: 489, reason: 'Plug-and-play is off', headers: {} };
    const eventHeader = req.get('event') ?? 'ua-profile';
    const params = eventParams(eventHeader);
    const profileType = params.get('profile-type');
    if (profileType !== undefined && profileType !== 'device') {
      // Only device profiles are served (user and application profiles come from the device file).
      return { status: 404, reason: `No ${profileType.slice(0, 20)} profile here`, headers: {} };
    }
    const contact = req.contacts()[0];
    const fromTag = req.from().tag;
    if (!fromTag) return { status: 400, reason: 'SUBSCRIBE needs a From tag', headers: {} };
    const mac = macOfSubscribe(req);
    const vendor = vendorFromUserAgent(params.get('vendor')) ?? vendorFromUserAgent(req.get('user-agent'));
    if (mac) {
      service.saw(mac, 'pnp', { ip: source.address, userAgent: req.get('user-agent'), vendor, model: params.get('model'), firmware: params.get('version') });
    }
    const host = this.opts.sip.transport.advertisedAddress;
    const base = service.bootstrapUrl(host);
    const phoneVendor = (mac ? service.vendorOf(mac) : undefined) ?? vendor;
    // Snom fetches exactly the URL it is given; the others append their own file names to a directory URL.
    const url = phoneVendor === 'snom' && mac ? `${base}${mac.toUpperCase()}.xml` : phoneVendor === 'cisco' ? `${base}spa$MA.cfg` : base;
    const localTag = randomToken(6);
    const to = req.to();
    const headers = { To: `${to.format()};tag=${localTag}`, Expires: '0', Contact: this.opts.sip.contactFor(source.transport) };
    const target = contact?.uri.format() ?? req.from().uri.format();
    return {
      status: 200,
      headers,
      after: () => {
        this.counters.notifies++;
        this.opts.sip
          .request({
            method: 'NOTIFY',
            uri: target,
            headers: {
              From: `${to.format()};tag=${localTag}`,
              To: req.get('from')!,
              'Call-ID': req.callId,
              CSeq: `1 NOTIFY`,
              Event: eventHeader,
              'Subscription-State': 'terminated;reason=timeout',
              Contact: this.opts.sip.contactFor(source.transport),
            },
            body: url,
            contentType: 'application/url',
            target: { transport: source.transport, address: source.address, port: source.port, connectionId: source.connectionId },
          })
          .then(
            (res) => this.answered(mac, url, res.status),
            (err: unknown) => {
              this.log.debug('PnP NOTIFY failed', { mac, error: errorMessage(err) });
              this.answered(mac, url, 0);
            },
          );
      },
    };
  }

  private answered(mac: string | undefined, url: string, status: number): void {
    if (status < 200 || status >= 300) this.counters.notifyFailures++;
    this.last = { mac, url, status };
    this.log.info('SIP plug-and-play answered', { mac, url, notifyStatus: status });
    this.onAnswered?.(this.last);
  }
}
