// The sounds page's text-to-speech form: a name, a language, the text; the box speaks it (espeak-ng) and stores the sound.
import { LitElement, html, nothing, type TemplateResult } from 'lit';
import { field, fieldErrors, formError, formValues } from './form-field.js';
import { pageStyles } from './styles.js';
import { speakSound } from '../data/sounds.js';
import { language, t } from '../i18n.js';

export class TtsForm extends LitElement {
  static override properties = { lang: { attribute: false }, errors: { state: true }, done: { state: true }, busy: { state: true }, kind: { state: true } };
  static override styles = [pageStyles];
  declare lang: string;
  declare errors: Record<string, string>;
  declare done: string;
  declare busy: boolean;
  declare kind: 'prompt' | 'moh';

  constructor() {
    super();
    this.errors = {};
    this.done = '';
    this.busy = false;
    this.kind = 'prompt';
  }

  private async submit(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const v = formValues(form);
    this.errors = {};
    this.done = '';
    this.busy = true;
    try {
      const r = await speakSound({ name: v['tts-name'] ?? '', text: v['tts-text'] ?? '', language: (v['tts-language'] ?? 'en') as 'fr' | 'en' | 'es', kind: this.kind });
      this.done = t('uploadDone', { name: r.sound.name });
      form.reset();
      this.kind = 'prompt';
      this.dispatchEvent(new CustomEvent('created', { detail: r.sound }));
    } catch (err) {
      this.errors = fieldErrors(err, { name: 'tts-name', text: 'tts-text', language: 'tts-language', kind: 'tts-kind' });
    } finally {
      this.busy = false;
    }
  }

  override render(): TemplateResult {
    return html`<section class="card" aria-labelledby="tts-h">
      <h2 id="tts-h">${t('ttsTitle')}</h2>
      <form class="inline" aria-labelledby="tts-h" @submit=${(e: Event) => void this.submit(e)} novalidate>
        ${field({ id: 'tts-name', label: t('name'), required: true, error: this.errors['tts-name'] })}
        ${field({ id: 'tts-language', label: t('languageLabel'), value: language(), options: [{ value: 'fr', label: 'Français' }, { value: 'en', label: 'English' }, { value: 'es', label: 'Español' }], error: this.errors['tts-language'] })}
        <div class="field">
          <label for="tts-kind">${t('ttsKind')}</label>
          <select id="tts-kind" @change=${(e: Event) => (this.kind = (e.target as HTMLSelectElement).value as 'prompt' | 'moh')}>
            <option value="prompt" ?selected=${this.kind === 'prompt'}>${t('kindPrompt')}</option>
            <option value="moh" ?selected=${this.kind === 'moh'}>${t('kindMoh')}</option>
          </select>
        </div>
        <div class="field" style="flex: 1 1 20rem">
          <label for="tts-text">${t('ttsText')}</label>
          <textarea id="tts-text" name="tts-text" rows="3" maxlength="500" required aria-invalid=${this.errors['tts-text'] ? 'true' : 'false'} aria-describedby=${this.errors['tts-text'] ? 'tts-text-error' : nothing}></textarea>
          ${this.errors['tts-text'] ? html`<span class="error" id="tts-text-error" role="alert">${this.errors['tts-text']}</span>` : nothing}
        </div>
        <button type="submit" ?disabled=${this.busy}>${this.busy ? t('ttsSpeaking') : t('ttsCreate')}</button>
      </form>
      ${this.kind === 'moh' ? html`<p class="notice">${t('royalties')}</p>` : nothing}
      ${this.done ? html`<p class="success" role="status">${this.done}</p>` : nothing} ${formError(this.errors)}
    </section>`;
  }
}

customElements.define('tts-form', TtsForm);
