// Sounds: upload MP3/WAV with a progress bar (hold music with the royalties notice), play, delete.
import { html, nothing, type TemplateResult } from 'lit';
import { PageElement } from '../components/page.js';
import { field, fieldErrors, formError } from '../components/form-field.js';
import { deleteSound, listSounds, uploadSound, type Sound, type SoundKind } from '../data/sounds.js';
import { formatDuration, t } from '../i18n.js';
import '../components/tts-form.js';

export class PageSounds extends PageElement {
  static override properties = { ...PageElement.properties, sounds: { state: true }, progress: { state: true }, errors: { state: true }, done: { state: true }, kind: { state: true } };
  declare sounds: Sound[] | undefined;
  declare progress: number | null;
  declare errors: Record<string, string>;
  declare done: string;
  declare kind: SoundKind;

  constructor() {
    super();
    this.progress = null;
    this.errors = {};
    this.done = '';
    this.kind = 'prompt';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    this.sounds = await listSounds();
  }

  private async submit(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const file = (form.querySelector('#file') as HTMLInputElement).files?.[0];
    const name = (form.querySelector('#soundname') as HTMLInputElement).value;
    this.errors = {};
    this.done = '';
    if (!file) {
      this.errors = { file: t('file') };
      return;
    }
    this.progress = 0;
    try {
      const r = await uploadSound(file, name, this.kind, (f) => (this.progress = f));
      this.done = t('uploadDone', { name: r.sound.name });
      form.reset();
      this.kind = 'prompt';
      await this.load();
    } catch (err) {
      this.errors = fieldErrors(err, { name: 'soundname', file: 'file' });
    } finally {
      this.progress = null;
    }
  }

  private async removeSound(s: Sound): Promise<void> {
    if (!confirm(t('confirmDelete', { what: s.name }))) return;
    try {
      await deleteSound(s.name);
    } catch (err) {
      this.errors = fieldErrors(err);
    }
    await this.load();
  }

  override render(): TemplateResult {
    if (!this.sounds) return html`<p>${t('loading')}</p>`;
    const kindLabel = (k: SoundKind): string => (k === 'moh' ? t('kindMoh') : k === 'system' ? t('kindSystem') : t('kindPrompt'));
    return html`<h1>${t('soundsTitle')}</h1>
      <section class="card" aria-labelledby="up-h">
        <h2 id="up-h">${t('uploadTitle')}</h2>
        <form class="inline" @submit=${(e: Event) => void this.submit(e)}>
          <div class="field">
            <label for="file">${t('file')}</label>
            <input id="file" name="file" type="file" accept=".mp3,.wav,audio/mpeg,audio/wav" required aria-invalid=${this.errors.file ? 'true' : 'false'} />
            ${this.errors.file ? html`<span class="error" role="alert">${this.errors.file}</span>` : nothing}
          </div>
          ${field({ id: 'soundname', label: t('name'), error: this.errors.soundname })}
          <div class="field">
            <label for="kind">${t('kind')}</label>
            <select id="kind" @change=${(e: Event) => (this.kind = (e.target as HTMLSelectElement).value as SoundKind)}>
              ${(['prompt', 'moh'] as SoundKind[]).map((k) => html`<option value=${k} ?selected=${this.kind === k}>${kindLabel(k)}</option>`)}
            </select>
          </div>
          <button type="submit" ?disabled=${this.progress !== null}>${t('upload')}</button>
        </form>
        ${this.kind === 'moh' ? html`<p class="notice" id="royalties">${t('royalties')}</p>` : nothing}
        ${this.progress !== null
          ? html`<div class="field"><label for="upload-progress">${t('uploading', { percent: Math.round(this.progress * 100) })}</label>
              <progress id="upload-progress" max="100" value=${Math.round(this.progress * 100)}></progress></div>`
          : nothing}
        ${this.done ? html`<p class="success" role="status">${this.done}</p>` : nothing} ${formError(this.errors)}
      </section>
      <tts-form .lang=${this.lang} @created=${() => void this.load()}></tts-form>
      <section class="card" aria-labelledby="list-h">
        <h2 id="list-h">${t('soundsTitle')}</h2>
        ${this.sounds.length === 0
          ? html`<p class="empty">${t('noSounds')}</p>`
          : html`<table>
              <thead>
                <tr><th scope="col">${t('name')}</th><th scope="col">${t('kind')}</th><th scope="col">${t('duration')}</th><th scope="col">${t('listen')}</th><th scope="col">${t('actions')}</th></tr>
              </thead>
              <tbody>
                ${this.sounds.map(
                  (s) => html`<tr data-sound=${s.name}>
                    <td>${s.name}</td>
                    <td>${kindLabel(s.kind)}</td>
                    <td>${formatDuration(s.durationMs)}</td>
                    <td><audio controls preload="none" src=${s.audio} aria-label=${s.name}></audio></td>
                    <td><button class="danger" @click=${() => void this.removeSound(s)} aria-label="${t('delete')} ${s.name}">${t('delete')}</button></td>
                  </tr>`,
                )}
              </tbody>
            </table>`}
      </section>`;
  }
}

customElements.define('page-sounds', PageSounds);
