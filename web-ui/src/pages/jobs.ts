// Jobs (follow-up tickets made from inbox calls or by hand: assign, open/done, notes) and the blocklist (view, add, edit, remove).
import { css, html, nothing, type TemplateResult } from 'lit';
import { PageElement } from '../components/page.js';
import { pageStyles } from '../components/styles.js';
import { field, fieldErrors, formError, formValues } from '../components/form-field.js';
import { ApiError } from '../data/api.js';
import { addBlocked, createJob, deleteBlocked, deleteJob, listBlocklist, listJobs, updateBlocked, updateJob, type BlockedCaller, type Job, type JobStatus } from '../data/inbox.js';
import { live } from '../data/live.js';
import { hasRight } from '../data/session.js';
import { listUsers } from '../data/users.js';
import { formatDateTime, t } from '../i18n.js';

export class PageJobs extends PageElement {
  static override properties = {
    ...PageElement.properties,
    jobs: { state: true },
    blocklist: { state: true },
    filter: { state: true },
    usernames: { state: true },
    errors: { state: true },
    blockErrors: { state: true },
    rowErrors: { state: true },
    message: { state: true },
  };
  declare jobs: Job[] | undefined;
  declare blocklist: BlockedCaller[];
  declare filter: JobStatus | '';
  declare usernames: string[];
  declare errors: Record<string, string>;
  declare blockErrors: Record<string, string>;
  declare rowErrors: Record<string, string>;
  declare message: string;
  private off: (() => void) | undefined;

  static override styles = [
    pageStyles,
    css`
      .scroll {
        overflow-x: auto;
      }
      textarea {
        font: inherit;
        width: 100%;
        min-width: 12rem;
        box-sizing: border-box;
        padding: 0.35rem;
        border: 1px solid #8592a3;
        border-radius: 4px;
      }
      .filter {
        max-width: 16rem;
        margin-bottom: 0.5rem;
      }
      td .row-actions {
        margin-top: 0.35rem;
      }
      td input {
        min-width: 7rem;
      }
    `,
  ];

  constructor() {
    super();
    this.blocklist = [];
    this.filter = 'open';
    this.usernames = [];
    this.errors = {};
    this.blockErrors = {};
    this.rowErrors = {};
    this.message = '';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
    if (hasRight(this.user, 'users')) void listUsers({ limit: 500 }).then((r) => (this.usernames = r.users.map((u) => u.username)), () => undefined);
    this.off = live.subscribe((_s, e) => {
      if (e && e.type === 'config.changed' && ['jobs', 'blocklist', 'calls'].includes(String(e.data.resource))) void this.load();
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.off?.();
  }

  private async load(): Promise<void> {
    const [jobs, blocklist] = await Promise.all([listJobs(this.filter), listBlocklist()]);
    this.jobs = jobs;
    this.blocklist = blocklist;
  }

  private async row(key: string, what: () => Promise<unknown>, done: string): Promise<void> {
    const { [key]: _, ...rest } = this.rowErrors;
    this.rowErrors = rest;
    try {
      await what();
      // The list is fresh before the message says so: a field typed after the message is not overwritten by it.
      await this.load();
      this.message = done;
    } catch (err) {
      this.rowErrors = { ...this.rowErrors, [key]: err instanceof ApiError ? err.message : String(err) };
    }
  }

  private async addJob(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const v = formValues(form);
    this.errors = {};
    try {
      const job = await createJob({ title: v['job-title'] ?? '', caller: v['job-caller'] ?? '', ...(v['job-assignee'] ? { assignee: v['job-assignee'] } : {}), notes: v['job-notes'] ?? '' });
      form.reset();
      await this.load();
      this.message = t('jobAdded', { title: job.title });
    } catch (err) {
      this.errors = fieldErrors(err, { title: 'job-title', caller: 'job-caller', assignee: 'job-assignee', notes: 'job-notes' });
    }
  }

  private async addBlock(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const v = formValues(form);
    this.blockErrors = {};
    try {
      const b = await addBlocked({ number: v['block-number'] ?? '', ...(v['block-note'] ? { note: v['block-note'] } : {}) });
      form.reset();
      await this.load();
      this.message = t('callerBlocked', { number: b.number });
    } catch (err) {
      this.blockErrors = fieldErrors(err, { number: 'block-number', note: 'block-note' });
    }
  }

  private jobRow(j: Job): TemplateResult {
    const key = `job-${j.id}`;
    const value = (sel: string): string => this.renderRoot.querySelector<HTMLInputElement | HTMLTextAreaElement>(`#${sel}-${j.id}`)?.value ?? '';
    return html`<tr data-job=${j.id}>
      <td>${j.title}<br /><span class="muted">${formatDateTime(j.created_at)}${j.created_by ? ` · ${j.created_by}` : ''}</span></td>
      <td>${j.caller || '—'}</td>
      <td>
        <label class="visually-hidden" for="assignee-${j.id}">${t('assigneeOf', { title: j.title })}</label>
        <input id="assignee-${j.id}" list="usernames" .value=${j.assignee ?? ''} autocomplete="off" />
      </td>
      <td><span class="badge ${j.status === 'done' ? 'ok' : 'warn'}">${j.status === 'done' ? t('jobDone') : t('jobOpen')}</span></td>
      <td>
        <label class="visually-hidden" for="notes-${j.id}">${t('notesOf', { title: j.title })}</label>
        <textarea id="notes-${j.id}" rows="2" .value=${j.notes}></textarea>
        <div class="row-actions">
          <button
            class="secondary"
            aria-label="${t('save')} ${j.title}"
            @click=${() => void this.row(key, () => updateJob(j.id, { notes: value('notes'), assignee: value('assignee') || null }), t('jobSaved', { title: j.title }))}
          >
            ${t('save')}
          </button>
          <button
            class="secondary"
            aria-label="${j.status === 'done' ? t('reopen') : t('markDone')} ${j.title}"
            @click=${() => void this.row(key, () => updateJob(j.id, { status: j.status === 'done' ? 'open' : 'done' }), t('jobSaved', { title: j.title }))}
          >
            ${j.status === 'done' ? t('reopen') : t('markDone')}
          </button>
          <button class="danger" aria-label="${t('delete')} ${j.title}" @click=${() => confirm(t('confirmDelete', { what: j.title })) && void this.row(key, () => deleteJob(j.id), t('jobDeleted', { title: j.title }))}>
            ${t('delete')}
          </button>
        </div>
        ${this.rowErrors[key] ? html`<p class="error" role="alert">${this.rowErrors[key]}</p>` : nothing}
      </td>
    </tr>`;
  }

  private blockRow(b: BlockedCaller): TemplateResult {
    const key = `block-${b.id}`;
    return html`<tr data-blocked=${b.number}>
      <td>${b.number}</td>
      <td>${b.action}${b.scenario ? ` (${b.scenario})` : ''}</td>
      <td>
        <label class="visually-hidden" for="bnote-${b.id}">${t('noteOf', { number: b.number })}</label>
        <input id="bnote-${b.id}" .value=${b.note} autocomplete="off" />
      </td>
      <td class="muted">${formatDateTime(b.created_at)}${b.created_by ? ` · ${b.created_by}` : ''}</td>
      <td>
        <div class="row-actions">
          <button
            class="secondary"
            aria-label="${t('save')} ${b.number}"
            @click=${() => void this.row(key, () => updateBlocked(b.id, { note: this.renderRoot.querySelector<HTMLInputElement>(`#bnote-${b.id}`)?.value ?? '' }), t('saved'))}
          >
            ${t('save')}
          </button>
          <button class="danger" aria-label="${t('unblock')} ${b.number}" @click=${() => void this.row(key, () => deleteBlocked(b.id), t('callerUnblocked', { number: b.number }))}>${t('unblock')}</button>
        </div>
        ${this.rowErrors[key] ? html`<p class="error" role="alert">${this.rowErrors[key]}</p>` : nothing}
      </td>
    </tr>`;
  }

  override render(): TemplateResult {
    const jobs = this.jobs;
    if (!jobs) return html`<p>${t('loading')}</p>`;
    return html`<h1>${t('navJobs')}</h1>
      <p role="status" class=${this.message ? 'success' : 'visually-hidden'}>${this.message}</p>
      <datalist id="usernames">${this.usernames.map((u) => html`<option value=${u}></option>`)}</datalist>
      <section class="card" aria-labelledby="jobs-h">
        <h2 id="jobs-h">${t('jobsTitle')} <span class="badge">${jobs.length}</span></h2>
        <div class="field filter">
          <label for="job-filter">${t('status')}</label>
          <select
            id="job-filter"
            @change=${(e: Event) => {
              this.filter = (e.target as HTMLSelectElement).value as JobStatus | '';
              void this.load();
            }}
          >
            <option value="open" ?selected=${this.filter === 'open'}>${t('jobOpen')}</option>
            <option value="done" ?selected=${this.filter === 'done'}>${t('jobDone')}</option>
            <option value="" ?selected=${this.filter === ''}>${t('inboxAll')}</option>
          </select>
        </div>
        ${jobs.length === 0
          ? html`<p class="empty">${t('noJobs')}</p>`
          : html`<div class="scroll">
              <table>
                <thead>
                  <tr><th scope="col">${t('jobTitle')}</th><th scope="col">${t('caller')}</th><th scope="col">${t('assignee')}</th><th scope="col">${t('status')}</th><th scope="col">${t('notes')}</th></tr>
                </thead>
                <tbody>
                  ${jobs.map((j) => this.jobRow(j))}
                </tbody>
              </table>
            </div>`}
      </section>
      <section class="card" aria-labelledby="newjob-h">
        <h2 id="newjob-h">${t('newJob')}</h2>
        <form aria-labelledby="newjob-h" class="inline" @submit=${(e: Event) => void this.addJob(e)} novalidate>
          ${field({ id: 'job-title', label: t('jobTitle'), required: true, error: this.errors['job-title'] })}
          ${field({ id: 'job-caller', label: t('caller'), type: 'tel', error: this.errors['job-caller'] })}
          ${field({ id: 'job-assignee', label: t('assignee'), error: this.errors['job-assignee'] })}
          ${field({ id: 'job-notes', label: t('notes'), error: this.errors['job-notes'] })}
          <button type="submit">${t('create')}</button>
          ${formError(this.errors)}
        </form>
      </section>
      <section class="card" aria-labelledby="block-h">
        <h2 id="block-h">${t('blocklistTitle')} <span class="badge">${this.blocklist.length}</span></h2>
        ${this.blocklist.length === 0
          ? html`<p class="empty">${t('noBlocked')}</p>`
          : html`<div class="scroll">
              <table>
                <thead>
                  <tr><th scope="col">${t('number')}</th><th scope="col">${t('blockAction')}</th><th scope="col">${t('notes')}</th><th scope="col">${t('when')}</th><th scope="col">${t('actions')}</th></tr>
                </thead>
                <tbody>
                  ${this.blocklist.map((b) => this.blockRow(b))}
                </tbody>
              </table>
            </div>`}
        <h3 id="newblock-h">${t('blockNumber')}</h3>
        <form aria-labelledby="newblock-h" class="inline" @submit=${(e: Event) => void this.addBlock(e)} novalidate>
          ${field({ id: 'block-number', label: t('number'), type: 'tel', required: true, error: this.blockErrors['block-number'] })}
          ${field({ id: 'block-note', label: t('notes'), error: this.blockErrors['block-note'] })}
          <button type="submit">${t('blockCaller')}</button>
          ${formError(this.blockErrors)}
        </form>
      </section>`;
  }
}

customElements.define('page-jobs', PageJobs);
