// Users (role, per-user rights) and extensions (secret shown once, regenerated on demand), refreshed on config changes.
import { html, nothing, type TemplateResult } from 'lit';
import { PageElement } from '../components/page.js';
import { field, fieldErrors, formError, formValues } from '../components/form-field.js';
import { createExtension, deleteExtension, listExtensions, regenerateSecret, updateExtension, type Extension } from '../data/extensions.js';
import { live } from '../data/live.js';
import { RIGHTS, type Right } from '../data/session.js';
import { createUser, deleteUser, listUsers, updateUser, type User } from '../data/users.js';
import { t, type MessageKey } from '../i18n.js';

const rightLabel = (r: Right): string => t(`right${r[0]!.toUpperCase()}${r.slice(1)}` as MessageKey);

export class PageUsers extends PageElement {
  static override properties = {
    ...PageElement.properties,
    users: { state: true },
    extensions: { state: true },
    userErrors: { state: true },
    extErrors: { state: true },
    secretNotice: { state: true },
    editing: { state: true },
  };
  declare users: User[] | undefined;
  declare extensions: Extension[] | undefined;
  declare userErrors: Record<string, string>;
  declare extErrors: Record<string, string>;
  declare secretNotice: string;
  declare editing: number | null;
  private off: (() => void) | undefined;

  constructor() {
    super();
    this.userErrors = {};
    this.extErrors = {};
    this.secretNotice = '';
    this.editing = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
    // Another console (or a phone registering) changed something: show it without a reload.
    this.off = live.subscribe((_s, e) => {
      if (e && ((e.type === 'config.changed' && ['users', 'extensions'].includes(String(e.data.resource))) || e.type.startsWith('registration.'))) void this.load();
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.off?.();
  }

  private async load(): Promise<void> {
    const [u, e] = await Promise.all([listUsers({ limit: 500 }), listExtensions({ limit: 1000 })]);
    this.users = u.users;
    this.extensions = e.extensions;
  }

  private async addUser(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const v = formValues(form);
    const rights = RIGHTS.filter((r) => (form.querySelector(`#new-right-${r}`) as HTMLInputElement | null)?.checked);
    this.userErrors = {};
    try {
      await createUser({ username: v.username ?? '', name: v.fullname ?? '', role: v.role === 'admin' ? 'admin' : 'user', rights, ...(v.password ? { password: v.password } : {}) });
      form.reset();
      await this.load();
    } catch (err) {
      this.userErrors = fieldErrors(err, { name: 'fullname' });
    }
  }

  private async saveRights(u: User, form: HTMLFormElement): Promise<void> {
    const rights = RIGHTS.filter((r) => (form.querySelector(`#edit-right-${r}`) as HTMLInputElement | null)?.checked);
    await updateUser(u.id, { rights });
    this.editing = null;
    await this.load();
  }

  private async removeUser(u: User): Promise<void> {
    if (!confirm(t('confirmDelete', { what: u.username }))) return;
    try {
      await deleteUser(u.id);
    } catch (err) {
      this.userErrors = fieldErrors(err);
    }
    await this.load();
  }

  private async addExtension(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const v = formValues(form);
    this.extErrors = {};
    try {
      const secure = (form.querySelector('#extsecure') as HTMLInputElement | null)?.checked === true;
      const r = await createExtension({ number: v.extnumber ?? '', displayName: v.extname ?? '', userId: v.extuser ? Number(v.extuser) : null, ...(secure ? { requireTlsSrtp: true } : {}) });
      this.secretNotice = t('secretOnce', { number: r.extension.number, secret: r.secret });
      form.reset();
      await this.load();
    } catch (err) {
      this.extErrors = fieldErrors(err, { number: 'extnumber', displayName: 'extname', userId: 'extuser' });
    }
  }

  /** The per-extension switch: applies at once (the registrar then refuses that extension's REGISTER over UDP/TCP). */
  private async setSecure(x: Extension, input: HTMLInputElement): Promise<void> {
    this.extErrors = {};
    try {
      await updateExtension(x.id, { requireTlsSrtp: input.checked });
      await this.load();
    } catch (err) {
      input.checked = x.requireTlsSrtp;
      this.extErrors = fieldErrors(err);
    }
  }

  private async regenerate(x: Extension): Promise<void> {
    const r = await regenerateSecret(x.id);
    this.secretNotice = t('secretOnce', { number: x.number, secret: r.secret });
  }

  private async removeExtension(x: Extension): Promise<void> {
    if (!confirm(t('confirmDelete', { what: x.number }))) return;
    await deleteExtension(x.id);
    await this.load();
  }

  private rightsEditor(u: User): TemplateResult {
    return html`<form
      @submit=${(e: Event) => {
        e.preventDefault();
        void this.saveRights(u, e.target as HTMLFormElement);
      }}
    >
      <fieldset>
        <legend>${t('editRights', { user: u.username })}</legend>
        ${RIGHTS.map((r) => html`<label><input type="checkbox" id="edit-right-${r}" ?checked=${u.rights.includes(r)} /> ${rightLabel(r)}</label>`)}
      </fieldset>
      <button type="submit">${t('save')}</button>
      <button type="button" class="secondary" @click=${() => (this.editing = null)}>${t('cancel')}</button>
    </form>`;
  }

  private usersCard(): TemplateResult {
    const users = this.users ?? [];
    return html`<section class="card" aria-labelledby="users-h">
      <h2 id="users-h">${t('usersTitle')}</h2>
      ${users.length === 0
        ? html`<p class="empty">${t('noUsers')}</p>`
        : html`<table>
            <thead>
              <tr><th scope="col">${t('username')}</th><th scope="col">${t('fullName')}</th><th scope="col">${t('role')}</th><th scope="col">${t('rights')}</th><th scope="col">${t('actions')}</th></tr>
            </thead>
            <tbody>
              ${users.map(
                (u) => html`<tr data-user=${u.username}>
                    <td>${u.username}</td>
                    <td>${u.name}</td>
                    <td>${u.role === 'admin' ? t('roleAdmin') : t('roleUser')}</td>
                    <td>${u.role === 'admin' ? '—' : u.rights.map(rightLabel).join(', ') || t('none')}</td>
                    <td>
                      ${u.role === 'admin' ? nothing : html`<button class="secondary" @click=${() => (this.editing = u.id)} aria-label="${t('rights')} ${u.username}">${t('rights')}</button>`}
                      <button class="danger" @click=${() => void this.removeUser(u)} aria-label="${t('delete')} ${u.username}">${t('delete')}</button>
                    </td>
                  </tr>
                  ${this.editing === u.id ? html`<tr><td colspan="5">${this.rightsEditor(u)}</td></tr>` : nothing}`,
              )}
            </tbody>
          </table>`}
      <h2 style="margin-top:1rem">${t('newUser')}</h2>
      <form class="inline" @submit=${(e: Event) => void this.addUser(e)} aria-label=${t('newUser')}>
        ${field({ id: 'username', label: t('username'), required: true, error: this.userErrors.username })}
        ${field({ id: 'fullname', label: t('fullName'), error: this.userErrors.fullname })}
        ${field({ id: 'password', label: t('password'), type: 'password', autocomplete: 'new-password', error: this.userErrors.password })}
        ${field({ id: 'role', label: t('role'), value: 'user', options: [{ value: 'user', label: t('roleUser') }, { value: 'admin', label: t('roleAdmin') }], error: this.userErrors.role })}
        <fieldset>
          <legend>${t('rights')}</legend>
          ${RIGHTS.map((r) => html`<label><input type="checkbox" id="new-right-${r}" name="right-${r}" /> ${rightLabel(r)}</label>`)}
        </fieldset>
        <button type="submit">${t('create')}</button>
      </form>
      ${formError(this.userErrors)}
    </section>`;
  }

  private extensionsCard(): TemplateResult {
    const exts = this.extensions ?? [];
    const users = this.users ?? [];
    const owner = (id: number | null): string => users.find((u) => u.id === id)?.username ?? '—';
    return html`<section class="card" aria-labelledby="ext-h">
      <h2 id="ext-h">${t('extensionsTitle')}</h2>
      ${this.secretNotice ? html`<p class="success" role="status">${this.secretNotice}</p>` : nothing}
      ${exts.length === 0
        ? html`<p class="empty">${t('noExtensions')}</p>`
        : html`<table>
            <thead>
              <tr><th scope="col">${t('number')}</th><th scope="col">${t('displayName')}</th><th scope="col">${t('owner')}</th><th scope="col">${t('registered')}</th><th scope="col">${t('requireTlsSrtp')}</th><th scope="col">${t('actions')}</th></tr>
            </thead>
            <tbody>
              ${exts.map(
                (x) => html`<tr data-extension=${x.number}>
                  <td>${x.number}</td>
                  <td>${x.displayName}</td>
                  <td>${owner(x.userId)}</td>
                  <td><span class="badge ${x.registered ? 'ok' : ''}">${x.registered ? t('yes') : t('no')}</span></td>
                  <td>
                    <input
                      type="checkbox"
                      role="switch"
                      aria-label="${t('requireTlsSrtp')} ${x.number}"
                      title=${t('requireTlsSrtpHint')}
                      .checked=${x.requireTlsSrtp}
                      @change=${(e: Event) => void this.setSecure(x, e.target as HTMLInputElement)}
                    />
                  </td>
                  <td>
                    <button class="secondary" @click=${() => void this.regenerate(x)} aria-label="${t('regenerate')} ${x.number}">${t('regenerate')}</button>
                    <button class="danger" @click=${() => void this.removeExtension(x)} aria-label="${t('delete')} ${x.number}">${t('delete')}</button>
                  </td>
                </tr>`,
              )}
            </tbody>
          </table>`}
      <h2 style="margin-top:1rem">${t('newExtension')}</h2>
      <form class="inline" @submit=${(e: Event) => void this.addExtension(e)} aria-label=${t('newExtension')}>
        ${field({ id: 'extnumber', label: t('number'), required: true, error: this.extErrors.extnumber })}
        ${field({ id: 'extname', label: t('displayName'), error: this.extErrors.extname })}
        ${field({ id: 'extuser', label: t('owner'), value: '', options: [{ value: '', label: t('none') }, ...users.map((u) => ({ value: String(u.id), label: u.username }))], error: this.extErrors.extuser })}
        <label><input type="checkbox" role="switch" id="extsecure" name="extsecure" /> ${t('requireTlsSrtp')}</label>
        <button type="submit">${t('create')}</button>
      </form>
      ${formError(this.extErrors)}
    </section>`;
  }

  override render(): TemplateResult {
    if (!this.users) return html`<p>${t('loading')}</p>`;
    return html`<h1>${t('navUsers')}</h1>
      ${this.usersCard()} ${this.extensionsCard()}`;
  }
}

customElements.define('page-users', PageUsers);
