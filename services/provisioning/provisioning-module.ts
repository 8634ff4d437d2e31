// The provisioning module as the composition root starts it: TFTP server, SIP plug-and-play, the registrar
// observer that feeds the inventory, and check-sync.
import type { Registrar, SipStack } from '../sip/index.js';
import { errorMessage, type Clock, type Logger, type Module, type ModuleHealth } from '../shared/index.js';
import { sendCheckSync, type CheckSyncResult } from './check-sync.js';
import { PnpResponder } from './pnp.js';
import type { ProvisioningService } from './provisioning-service.js';
import { TFTP_ERROR, TftpServer } from './tftp-server.js';

export interface ProvisioningModuleOptions {
  service: ProvisioningService;
  sip: SipStack;
  registrar: Registrar;
  /** Where ua-profile SUBSCRIBEs arrive (the presence server dispatches event packages). */
  presence: { addEventPackage(name: string, handler: PnpResponder['handle']): void };
  bind: string;
  sipPort: number;
  /** TFTP port; undefined: no TFTP. */
  tftpPort: number | undefined;
  clock: Clock;
  logger: Logger;
}

export class ProvisioningModule implements Module {
  readonly name = 'provisioning';
  readonly pnp: PnpResponder;
  readonly tftp: TftpServer | undefined;
  private tftpError: string | undefined;
  private running = false;
  private readonly log: Logger;

  constructor(private readonly opts: ProvisioningModuleOptions) {
    this.log = opts.logger.child({ module: 'provisioning' });
    const service = opts.service;
    this.pnp = new PnpResponder({ service, sip: opts.sip, bind: opts.bind, sipPort: opts.sipPort, clock: opts.clock, logger: opts.logger });
    opts.presence.addEventPackage('ua-profile', (req, source) => this.pnp.handle(req, source));
    opts.registrar.on('attempt', (a) => {
      try {
        service.observeRegister({ address: a.source.address, userAgent: a.userAgent, instance: a.instance, username: a.username, status: a.status, cause: a.cause });
      } catch (err) {
        this.log.warn('REGISTER not recorded in the phone inventory', { error: errorMessage(err) });
      }
    });
    if (opts.tftpPort !== undefined) {
      this.tftp = new TftpServer({
        bind: opts.bind,
        port: opts.tftpPort,
        clock: opts.clock,
        logger: opts.logger,
        resolve: (file, remote) => {
          // TFTP clients send names with or without a leading slash; anything with a directory part is refused.
          const name = file.replace(/^\/+/, '');
          const r = service.serve({ name, via: 'tftp', ip: remote.address });
          if (r.status === 200) return { data: r.body };
          return { error: r.status === 403 ? TFTP_ERROR.accessViolation : TFTP_ERROR.fileNotFound, message: r.message };
        },
      });
    }
  }

  async start(): Promise<void> {
    this.running = true;
    if (this.tftp) {
      try {
        await this.tftp.start();
        this.log.info('tftp listening', { address: this.opts.bind, port: this.tftp.port() });
      } catch (err) {
        // Port 69 needs root (or CAP_NET_BIND_SERVICE): the PBX runs on without TFTP, and health says why.
        this.tftpError = `TFTP cannot listen on ${this.opts.bind}:${this.opts.tftpPort}: ${errorMessage(err)}`;
        this.log.warn('tftp not started', { error: this.tftpError });
      }
    }
    await this.pnp.start();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.pnp.stop();
    await this.tftp?.stop();
  }

  health(): ModuleHealth {
    // Read every second by the LEDs: counts only (the statuses are GET /api/phones' work).
    return {
      status: !this.running ? 'down' : this.tftpError ? 'degraded' : 'ok',
      detail: {
        phones: this.opts.service.counts(),
        tftp: this.tftp ? (this.tftpError ?? { port: this.tftp.port(), ...this.tftp.stats() }) : 'off',
        pnp: { multicast: this.pnp.listening(), ...this.pnp.counters },
      },
    };
  }

  /** Asks the phone to fetch its configuration again (reboot: also restart), through its registered contact. */
  checkSync(mac: string, reboot: boolean): Promise<CheckSyncResult> {
    return sendCheckSync(
      {
        service: this.opts.service,
        sip: this.opts.sip,
        clock: this.opts.clock,
        contacts: (id) => this.opts.registrar.contactsOf(id).map((b) => ({ aor: b.aor, contact: b.contact, source: b.source })),
      },
      mac,
      reboot,
    );
  }
}
