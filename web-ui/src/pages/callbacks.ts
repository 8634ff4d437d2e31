// Callbacks to make (scheduled, lost calls), with their queue, due time and attempts; cancel one.
import { html, type TemplateResult } from 'lit';
import { PageElement } from '../components/page.js';
import { live } from '../data/live.js';
import { cancelCallback, listCallbacks, type Callback } from '../data/queues.js';
import { formatDateTime, t } from '../i18n.js';

export class PageCallbacks extends PageElement {
  static override properties = { ...PageElement.properties, callbacks: { state: true } };
  declare callbacks: Callback[] | undefined;
  private off: (() => void) | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
    this.off = live.subscribe((_s, e) => {
      if (e && (e.type === 'call.ended' || e.type === 'callback.changed')) void this.load();
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.off?.();
  }

  private async load(): Promise<void> {
    this.callbacks = await listCallbacks();
  }

  override render(): TemplateResult {
    const list = this.callbacks;
    if (!list) return html`<p>${t('loading')}</p>`;
    return html`<h1>${t('navCallbacks')}</h1>
      <section class="card">
        ${list.length === 0
          ? html`<p class="empty">${t('noCallbacks')}</p>`
          : html`<table>
              <thead><tr><th scope="col">${t('number')}</th><th scope="col">${t('navQueues')}</th><th scope="col">${t('status')}</th><th scope="col">${t('due')}</th><th scope="col">${t('attempts')}</th><th scope="col">${t('actions')}</th></tr></thead>
              <tbody>
                ${list.map(
                  (c) => html`<tr>
                    <td>${c.number}</td>
                    <td>${c.queue ?? '—'}</td>
                    <td>${c.status}${c.lastResult ? html` <span class="muted">(${c.lastResult})</span>` : ''}</td>
                    <td>${formatDateTime(Date.parse(c.dueAt))}</td>
                    <td>${c.attempts}</td>
                    <td>${['pending', 'scheduled'].includes(c.status.toLowerCase()) ? html`<button class="danger" @click=${() => void cancelCallback(c.id).then(() => this.load())} aria-label="${t('cancel')} ${c.number}">${t('cancel')}</button>` : ''}</td>
                  </tr>`,
                )}
              </tbody>
            </table>`}
      </section>`;
  }
}

customElements.define('page-callbacks', PageCallbacks);
