// Pickers of the configuration pages: a name from a list when the list is known (else free text), errors of the
// site-file API placed next to the field they name (`actions[2].to`, `offline_action.sound`, `users[0]`).
import { html, nothing, type TemplateResult } from 'lit';
import { ApiError } from '../data/api.js';
import { t } from '../i18n.js';

export interface NamePickerOptions {
  id: string;
  label: string;
  value: string | undefined;
  /** The names to choose from; undefined: a text input. */
  choices: string[] | undefined;
  /** Offers "none" (the value becomes undefined). */
  optional?: boolean;
  error?: string | undefined;
  hint?: string;
  /** How a choice is shown (default: as it is). */
  optionLabel?: (value: string) => string;
  onChange: (value: string | undefined) => void;
}

export function namePicker(o: NamePickerOptions): TemplateResult {
  const errId = `${o.id}-error`;
  const hintId = `${o.id}-hint`;
  const described = [o.error ? errId : '', o.hint ? hintId : ''].filter(Boolean).join(' ') || nothing;
  const v = o.value ?? '';
  const control = o.choices
    ? html`<select id=${o.id} aria-invalid=${o.error ? 'true' : 'false'} aria-describedby=${described} @change=${(e: Event) => o.onChange((e.target as HTMLSelectElement).value || undefined)}>
        ${o.optional || v === '' ? html`<option value="" ?selected=${v === ''}>${o.optional ? t('none') : t('choose')}</option>` : nothing}
        ${(o.choices.includes(v) || v === '' ? o.choices : [v, ...o.choices]).map((c) => html`<option value=${c} ?selected=${c === v}>${o.optionLabel ? o.optionLabel(c) : c}</option>`)}
      </select>`
    : html`<input id=${o.id} .value=${v} aria-invalid=${o.error ? 'true' : 'false'} aria-describedby=${described} @input=${(e: Event) => o.onChange((e.target as HTMLInputElement).value || undefined)} />`;
  return html`<div class="field">
    <label for=${o.id}>${o.label}</label>
    ${control} ${o.hint ? html`<span class="hint" id=${hintId}>${o.hint}</span>` : nothing}
    ${o.error ? html`<span class="error" id=${errId} role="alert">${o.error}</span>` : nothing}
  </div>`;
}

export interface TextOptions {
  id: string;
  label: string;
  value: string | number | undefined;
  type?: 'text' | 'number' | 'date' | 'datetime-local' | 'tel';
  error?: string | undefined;
  hint?: string;
  placeholder?: string;
  min?: number;
  max?: number;
  required?: boolean;
  /** `change` (on leaving the field) for lists typed as text, so typing a separator is not undone. */
  on?: 'input' | 'change';
  onChange: (value: string) => void;
}

export function textField(o: TextOptions): TemplateResult {
  const errId = `${o.id}-error`;
  const hintId = `${o.id}-hint`;
  const described = [o.error ? errId : '', o.hint ? hintId : ''].filter(Boolean).join(' ') || nothing;
  const handler = (e: Event): void => o.onChange((e.target as HTMLInputElement).value);
  return html`<div class="field">
    <label for=${o.id}>${o.label}</label>
    <input
      id=${o.id}
      type=${o.type ?? 'text'}
      .value=${o.value === undefined ? '' : String(o.value)}
      placeholder=${o.placeholder ?? nothing}
      min=${o.min ?? nothing}
      max=${o.max ?? nothing}
      ?required=${o.required ?? false}
      autocomplete="off"
      aria-invalid=${o.error ? 'true' : 'false'}
      aria-describedby=${described}
      @input=${o.on === 'change' ? null : handler}
      @change=${o.on === 'change' ? handler : null}
    />
    ${o.hint ? html`<span class="hint" id=${hintId}>${o.hint}</span>` : nothing} ${o.error ? html`<span class="error" id=${errId} role="alert">${o.error}</span>` : nothing}
  </div>`;
}

export function checkbox(id: string, label: string, checked: boolean, onChange: (v: boolean) => void): TemplateResult {
  return html`<label class="check" for=${id}><input type="checkbox" id=${id} .checked=${checked} @change=${(e: Event) => onChange((e.target as HTMLInputElement).checked)} /> ${label}</label>`;
}

/** The field an API error names, and its message; `_form` when it names none. */
export interface PlacedError {
  field: string;
  message: string;
}

export function placeError(err: unknown): PlacedError {
  if (err instanceof ApiError) return { field: err.field ?? '_form', message: err.message };
  return { field: '_form', message: err instanceof Error ? err.message : String(err) };
}

/** The first segment of an error's field path: `offline_action.sound` → `offline_action`, `users[0]` → `users`. */
export function topField(field: string): string {
  return field.split(/[.[]/)[0] ?? field;
}

/** Moves an item of a list (drag and drop, or the keyboard's up/down buttons). */
export function moveItem<T>(list: T[], from: number, to: number): void {
  if (to < 0 || to >= list.length || from === to) return;
  const [item] = list.splice(from, 1);
  list.splice(to, 0, item as T);
}
