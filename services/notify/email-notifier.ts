// E-mail notifications through the office's SMTP server (nodemailer): new voicemail (with the message attached),
// missed inbound calls, callbacks due, system alerts — taken from the event bus, settings read at each send.
import fs from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { ExtensionRepository, NumberRepository, SettingsRepository, UserRepository } from '../directory/index.js';
import type { EventBus, RelaisEvent } from '../events/index.js';
import { errorMessage, type Logger } from '../shared/index.js';
import { readEmailSettings, type EmailSettings, type NotifyKind } from './email-settings.js';

export interface EmailNotifierDeps {
  bus: EventBus;
  settings: SettingsRepository;
  users: UserRepository;
  extensions: ExtensionRepository;
  numbers: NumberRepository;
  /** A stored voicemail's file, relative to dataDir. */
  voicemailFile: (id: number) => { file: string; extensionId: number | null; numberId: number | null } | undefined;
  dataDir: string;
  logger: Logger;
}

export interface Mail {
  kind: NotifyKind;
  subject: string;
  text: string;
  /** Extra recipients for this mail only (the mailbox owners). */
  owners: string[];
  attachment?: { filename: string; path: string };
}

const MAX_ATTACHMENT = 10 * 1024 * 1024;

export class EmailNotifier {
  private readonly log: Logger;
  private off: (() => void) | undefined;
  private sent = 0;
  private failed = 0;
  private lastError: string | undefined;

  constructor(private readonly d: EmailNotifierDeps) {
    this.log = d.logger.child({ module: 'notify' });
  }

  start(): void {
    this.off = this.d.bus.subscribe((e) => {
      const mail = this.mailOf(e);
      if (mail) void this.send(mail).catch(() => undefined);
    });
  }

  stop(): void {
    this.off?.();
  }

  status(): { sent: number; failed: number; lastError: string | null } {
    return { sent: this.sent, failed: this.failed, lastError: this.lastError ?? null };
  }

  private officeName(): string {
    return this.d.settings.site<string>('name') || 'Relais';
  }

  /** The mail an event is worth, or undefined. */
  mailOf(e: RelaisEvent): Mail | undefined {
    // Every event of the bus passes here (several per call): the site name is a settings read, made only for a mail.
    if (e.type === 'voicemail.new') {
      const d = (e as RelaisEvent<'voicemail.new'>).data;
      const rec = this.d.voicemailFile(d.id);
      const owners: string[] = [];
      if (rec?.extensionId != null) {
        const uid = this.d.extensions.get(rec.extensionId)?.userId;
        const email = uid != null ? this.d.users.get(uid)?.email : null;
        if (email) owners.push(email);
      } else if (rec?.numberId != null) {
        for (const uid of this.d.numbers.get(rec.numberId)?.userIds ?? []) {
          const email = this.d.users.get(uid)?.email;
          if (email) owners.push(email);
        }
      }
      const abs = rec ? path.join(this.d.dataDir, rec.file) : undefined;
      const size = abs && fs.existsSync(abs) ? fs.statSync(abs).size : 0;
      return {
        kind: 'voicemail',
        subject: `[${this.officeName()}] New voicemail from ${d.caller} for ${d.extension ?? d.number ?? 'the office'}`,
        text: `${d.caller} left a voicemail message for ${d.extension ?? d.number ?? 'the office'}.\nThe message is attached; it is also in the console under Calls & voicemail.\n`,
        owners,
        ...(abs && size > 0 && size <= MAX_ATTACHMENT ? { attachment: { filename: `voicemail-${d.id}.wav`, path: abs } } : {}),
      };
    }
    if (e.type === 'call.ended') {
      const c = (e as RelaisEvent<'call.ended'>).data;
      if (c.direction !== 'inbound' || c.answeredAt !== null) return undefined;
      return { kind: 'missed', subject: `[${this.officeName()}] Missed call from ${c.caller.number}`, text: `${c.caller.number} called ${c.did ?? c.callee.number}; nobody answered.\n`, owners: [] };
    }
    if (e.type === 'callback.changed') {
      const c = (e as RelaisEvent<'callback.changed'>).data;
      if (c.state !== 'dialling') return undefined;
      return { kind: 'callback', subject: `[${this.officeName()}] Callback #${c.id} is due`, text: `Callback #${c.id} is due; the box is dialling it.\n`, owners: [] };
    }
    if (e.type === 'system.alert') {
      const a = (e as RelaisEvent<'system.alert'>).data;
      if (a.level === 'info') return undefined;
      return { kind: 'alert', subject: `[${this.officeName()}] ${a.level === 'critical' ? 'Critical' : 'Warning'}: ${a.message}`.slice(0, 200), text: `${a.message}\n(code ${a.code})\n`, owners: [] };
    }
    return undefined;
  }

  /** Sends a mail with the settings of this moment; resolves false when e-mail is off or the kind not chosen. */
  async send(mail: Mail, override?: EmailSettings): Promise<boolean> {
    const s = override ?? readEmailSettings(this.d.settings);
    if (!s.enabled || !s.host || !s.kinds.includes(mail.kind)) return false;
    const to = [...new Set([...s.to, ...(s.mailboxOwners ? mail.owners : [])])];
    if (to.length === 0) return false;
    const transport = nodemailer.createTransport({
      host: s.host,
      port: s.port,
      secure: s.security === 'tls',
      requireTLS: s.security === 'starttls',
      ignoreTLS: s.security === 'none',
      ...(s.user ? { auth: { user: s.user, pass: s.password } } : {}),
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000,
    });
    try {
      await transport.sendMail({ from: s.from, to, subject: mail.subject, text: mail.text, ...(mail.attachment ? { attachments: [mail.attachment] } : {}) });
      this.sent++;
      this.log.info('notification e-mail sent', { kind: mail.kind, to: to.length });
      return true;
    } catch (err) {
      this.failed++;
      this.lastError = errorMessage(err);
      this.log.warn('notification e-mail not sent', { kind: mail.kind, host: s.host, port: s.port, error: this.lastError });
      throw err;
    } finally {
      transport.close();
    }
  }
}
