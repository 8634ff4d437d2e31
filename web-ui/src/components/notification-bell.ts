// The header's bell: new voicemail, missed calls, callbacks due and system alerts from the event stream, with a count;
// a click opens the item (a voicemail opens its player); a browser notification when the tab is in the background.
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { live, type LiveEvent } from '../data/live.js';
import { hasRight, type SessionUser } from '../data/session.js';
import { formatDateTime, t } from '../i18n.js';

export interface ConsoleNotification {
  key: string;
  text: string;
  /** The console page (with its query) that shows the item. */
  path: string;
  at: number;
  read: boolean;
}

/** What an event is worth telling the user, or null. */
export function notificationOf(e: LiveEvent, user: SessionUser): ConsoleNotification | null {
  const d = e.data;
  const base = { key: `${e.type}:${e.seq}`, at: e.at, read: false };
  switch (e.type) {
    case 'voicemail.new':
      return { ...base, text: t('notifVoicemail', { caller: String(d.caller) }), path: `/calls?voicemail=${String(d.id)}` };
    case 'call.ended': {
      const caller = (d.caller as { number?: string } | undefined)?.number ?? '';
      if (d.direction !== 'inbound' || d.answeredAt !== null) return null;
      return { ...base, text: t('notifMissed', { caller }), path: hasRight(user, 'calls') ? '/inbox' : '/calls' };
    }
    case 'callback.changed':
      return d.state === 'dialling' ? { ...base, text: t('notifCallbackDue', { id: String(d.id) }), path: '/callbacks' } : null;
    case 'system.alert':
      return d.level === 'info' ? null : { ...base, text: t('notifAlert', { message: String(d.message) }), path: user.role === 'admin' ? '/system' : '/' };
    default:
      return null;
  }
}

export class NotificationBell extends LitElement {
  static override properties = { user: { attribute: false }, lang: { attribute: false }, items: { state: true }, open: { state: true } };
  declare user: SessionUser;
  declare lang: string;
  declare items: ConsoleNotification[];
  declare open: boolean;
  private off: (() => void) | undefined;

  constructor() {
    super();
    this.items = [];
    this.open = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.off = live.subscribe((_s, e) => {
      if (!e) return;
      const n = notificationOf(e, this.user);
      if (!n || this.items.some((x) => x.key === n.key)) return;
      this.items = [n, ...this.items].slice(0, 50);
      this.browserNotification(n);
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.off?.();
  }

  private browserNotification(n: ConsoleNotification): void {
    if (!document.hidden || typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
    const bn = new Notification('Relais', { body: n.text, tag: n.key });
    bn.onclick = () => {
      window.focus();
      this.openItem(n);
    };
  }

  private toggle(): void {
    this.open = !this.open;
    // Asked on a click (browsers want a gesture), once.
    if (this.open && typeof Notification !== 'undefined' && Notification.permission === 'default') void Notification.requestPermission();
  }

  private openItem(n: ConsoleNotification): void {
    this.items = this.items.map((x) => (x.key === n.key ? { ...x, read: true } : x));
    this.open = false;
    this.dispatchEvent(new CustomEvent('navigate', { detail: n.path, bubbles: true, composed: true }));
  }

  override render(): TemplateResult {
    const unread = this.items.filter((x) => !x.read).length;
    // The name is the visible text ("Notifications (2 new)", partly visually hidden): what a voice user says is what is shown.
    return html`<button class="bell" aria-expanded=${this.open ? 'true' : 'false'} aria-controls="notif-list" @click=${() => this.toggle()}>
        <svg aria-hidden="true" viewBox="0 0 24 24" width="18" height="18"><path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z"/></svg><span class="vh">${t('notifTitle')} (</span><span class=${unread ? 'count' : 'vh'}>${unread}</span><span class="vh"> ${t('notifNew')})</span>
      </button>
      ${this.open
        ? html`<div id="notif-list" class="panel" role="region" aria-label=${t('notifTitle')}>
            ${this.items.length === 0
              ? html`<p class="empty">${t('notifNone')}</p>`
              : html`<ul>
                  ${this.items.map(
                    (n) => html`<li>
                      <button class=${n.read ? 'item read' : 'item'} @click=${() => this.openItem(n)}><span>${n.text}</span><span class="when">${formatDateTime(n.at)}</span></button>
                    </li>`,
                  )}
                </ul>
                <button class="clear" @click=${() => (this.items = this.items.map((x) => ({ ...x, read: true })))}>${t('notifMarkRead')}</button>`}
          </div>`
        : nothing}`;
  }

  static override styles = css`
    :host {
      position: relative;
      display: inline-block;
    }
    button {
      font: inherit;
      cursor: pointer;
    }
    .bell {
      display: inline-flex;
      align-items: center;
      gap: 0.2rem;
      background: transparent;
      border: 1px solid #fff;
      color: #fff;
      border-radius: 4px;
      padding: 0.3rem 0.6rem;
    }
    .vh {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip: rect(0 0 0 0);
      white-space: nowrap;
    }
    .count {
      display: inline-block;
      margin-left: 0.3rem;
      min-width: 1.2rem;
      border-radius: 999px;
      background: #fde8c8;
      color: #7a3e00;
      font-weight: 700;
      font-size: 0.85rem;
      text-align: center;
    }
    .panel {
      position: absolute;
      right: 0;
      top: 2.4rem;
      z-index: 20;
      width: min(22rem, 90vw);
      max-height: 70vh;
      overflow: auto;
      background: #fff;
      color: #1b2430;
      border: 1px solid #d5dbe3;
      border-radius: 8px;
      box-shadow: 0 6px 18px rgba(0, 0, 0, 0.2);
      padding: 0.5rem;
    }
    ul {
      list-style: none;
      margin: 0;
      padding: 0;
    }
    .item {
      display: flex;
      flex-direction: column;
      align-items: flex-start;
      width: 100%;
      text-align: left;
      background: #eef4fb;
      border: 1px solid transparent;
      border-radius: 6px;
      padding: 0.45rem 0.6rem;
      margin-bottom: 0.35rem;
      color: #1b2430;
    }
    .item.read {
      background: #fff;
      border-color: #e3e8ee;
    }
    .when {
      font-size: 0.8rem;
      color: #4a5666;
    }
    .empty {
      margin: 0.5rem;
      color: #4a5666;
    }
    .clear {
      background: #fff;
      color: #1d4f91;
      border: 1px solid #1d4f91;
      border-radius: 4px;
      padding: 0.3rem 0.7rem;
    }
    :focus-visible {
      outline: 3px solid #f2a900;
      outline-offset: 2px;
    }
  `;
}

customElements.define('notification-bell', NotificationBell);
