// Trunks (registration state, live) and outbound routes.
import { html, nothing, type TemplateResult } from 'lit';
import { PageElement } from '../components/page.js';
import { field, fieldErrors, formError, formValues } from '../components/form-field.js';
import { live } from '../data/live.js';
import { createRoute, createTrunk, deleteRoute, deleteTrunk, listTrunks, type Trunk } from '../data/trunks.js';
import { t } from '../i18n.js';

export class PageTrunks extends PageElement {
  static override properties = { ...PageElement.properties, trunks: { state: true }, errors: { state: true }, routeErrors: { state: true } };
  declare trunks: Trunk[] | undefined;
  declare errors: Record<string, string>;
  declare routeErrors: Record<string, string>;
  private off: (() => void) | undefined;

  constructor() {
    super();
    this.errors = {};
    this.routeErrors = {};
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
    this.off = live.subscribe((_s, e) => {
      if (e && (e.type === 'trunk.status' || (e.type === 'config.changed' && ['trunks', 'routes'].includes(String(e.data.resource))))) void this.load();
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.off?.();
  }

  private async load(): Promise<void> {
    this.trunks = await listTrunks();
  }

  private async add(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const v = formValues(form);
    const register = (form.querySelector('#register') as HTMLInputElement).checked;
    this.errors = {};
    try {
      await createTrunk({
        name: v.trunkname ?? '',
        host: v.host ?? '',
        port: Number(v.port || 5060),
        register,
        ...(v.trunkuser ? { username: v.trunkuser } : {}),
        ...(v.trunksecret ? { secret: v.trunksecret } : {}),
      });
      form.reset();
      await this.load();
    } catch (err) {
      this.errors = fieldErrors(err, { name: 'trunkname', username: 'trunkuser', secret: 'trunksecret' });
    }
  }

  private async addRoute(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const v = formValues(form);
    this.routeErrors = {};
    try {
      await createRoute({ name: v.routename ?? '', pattern: v.pattern ?? '', trunkId: Number(v.routetrunk) });
      form.reset();
      await this.load();
    } catch (err) {
      this.routeErrors = fieldErrors(err, { name: 'routename', trunkId: 'routetrunk' });
    }
  }

  override render(): TemplateResult {
    const trunks = this.trunks;
    if (!trunks) return html`<p>${t('loading')}</p>`;
    const badge = (s: string): string => (s === 'registered' || s === 'ip' ? 'ok' : s === 'disabled' ? '' : 'bad');
    const routes = trunks.flatMap((tr) => tr.routes.map((r) => ({ ...r, trunk: tr.name })));
    return html`<h1>${t('trunksTitle')}</h1>
      <section class="card" aria-labelledby="trunks-h">
        <h2 id="trunks-h">${t('trunksTitle')}</h2>
        ${trunks.length === 0
          ? html`<p class="empty">${t('noTrunks')}</p>`
          : html`<table>
              <thead>
                <tr><th scope="col">${t('name')}</th><th scope="col">${t('host')}</th><th scope="col">${t('state')}</th><th scope="col">${t('actions')}</th></tr>
              </thead>
              <tbody>
                ${trunks.map(
                  (tr) => html`<tr>
                    <td>${tr.name}</td>
                    <td>${tr.host}:${tr.port} (${tr.transport})</td>
                    <td><span class="badge ${badge(tr.state)}">${tr.state}</span> ${tr.stateDetail ? html`<span class="muted">${tr.stateDetail}</span>` : nothing}</td>
                    <td><button class="danger" @click=${() => confirm(t('confirmDelete', { what: tr.name })) && void deleteTrunk(tr.id).then(() => this.load())} aria-label="${t('delete')} ${tr.name}">${t('delete')}</button></td>
                  </tr>`,
                )}
              </tbody>
            </table>`}
        <h2 style="margin-top:1rem">${t('newTrunk')}</h2>
        <form class="inline" @submit=${(e: Event) => void this.add(e)}>
          ${field({ id: 'trunkname', label: t('name'), required: true, error: this.errors.trunkname })}
          ${field({ id: 'host', label: t('host'), required: true, error: this.errors.host })}
          ${field({ id: 'port', label: t('port'), type: 'number', value: '5060', min: 1, max: 65535, error: this.errors.port })}
          <div class="field"><label for="register"><input id="register" type="checkbox" checked /> ${t('registerTrunk')}</label></div>
          ${field({ id: 'trunkuser', label: t('username'), error: this.errors.trunkuser })}
          ${field({ id: 'trunksecret', label: t('password'), type: 'password', autocomplete: 'new-password', error: this.errors.trunksecret })}
          <button type="submit">${t('create')}</button>
        </form>
        ${formError(this.errors)}
      </section>
      <section class="card" aria-labelledby="routes-h">
        <h2 id="routes-h">${t('routesTitle')}</h2>
        ${routes.length === 0
          ? html`<p class="empty">${t('noRoutes')}</p>`
          : html`<table>
              <thead>
                <tr><th scope="col">${t('name')}</th><th scope="col">${t('pattern')}</th><th scope="col">${t('trunk')}</th><th scope="col">${t('actions')}</th></tr>
              </thead>
              <tbody>
                ${routes.map(
                  (r) => html`<tr>
                    <td>${r.name}</td>
                    <td><code>${r.pattern}</code></td>
                    <td>${r.trunk}</td>
                    <td><button class="danger" @click=${() => void deleteRoute(r.id).then(() => this.load())} aria-label="${t('delete')} ${r.name}">${t('delete')}</button></td>
                  </tr>`,
                )}
              </tbody>
            </table>`}
        ${trunks.length
          ? html`<form class="inline" @submit=${(e: Event) => void this.addRoute(e)}>
              ${field({ id: 'routename', label: t('name'), required: true, error: this.routeErrors.routename })}
              ${field({ id: 'pattern', label: t('pattern'), required: true, error: this.routeErrors.pattern })}
              ${field({ id: 'routetrunk', label: t('trunk'), value: String(trunks[0]!.id), options: trunks.map((tr) => ({ value: String(tr.id), label: tr.name })), error: this.routeErrors.routetrunk })}
              <button type="submit">${t('newRoute')}</button>
            </form>`
          : nothing}
        ${formError(this.routeErrors)}
      </section>`;
  }
}

customElements.define('page-trunks', PageTrunks);
