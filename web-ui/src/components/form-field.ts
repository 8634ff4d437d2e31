// One labelled form field with its error right under it (errors next to the field that caused them).
import { html, nothing, type TemplateResult } from 'lit';
import { ApiError } from '../data/api.js';

export interface FieldOptions {
  id: string;
  label: string;
  type?: string;
  value?: string;
  required?: boolean;
  autocomplete?: string;
  error?: string | undefined;
  options?: { value: string; label: string }[];
  min?: number;
  max?: number;
}

export function field(o: FieldOptions): TemplateResult {
  const errId = `${o.id}-error`;
  const control = o.options
    ? html`<select id=${o.id} name=${o.id} aria-invalid=${o.error ? 'true' : 'false'} aria-describedby=${o.error ? errId : nothing}>
        ${o.options.map((opt) => html`<option value=${opt.value} ?selected=${opt.value === o.value}>${opt.label}</option>`)}
      </select>`
    : html`<input
        id=${o.id}
        name=${o.id}
        type=${o.type ?? 'text'}
        .value=${o.value ?? ''}
        ?required=${o.required ?? false}
        autocomplete=${o.autocomplete ?? 'off'}
        min=${o.min ?? nothing}
        max=${o.max ?? nothing}
        aria-invalid=${o.error ? 'true' : 'false'}
        aria-describedby=${o.error ? errId : nothing}
      />`;
  return html`<div class="field">
    <label for=${o.id}>${o.label}</label>
    ${control} ${o.error ? html`<span class="error" id=${errId} role="alert">${o.error}</span>` : nothing}
  </div>`;
}

/** The errors of a failed request: by field when the API named one, else under the form. */
export function fieldErrors(err: unknown, fieldIds: Record<string, string> = {}): Record<string, string> {
  if (err instanceof ApiError) {
    const id = err.field !== undefined ? (fieldIds[err.field.split('.')[0]!] ?? err.field.split('.')[0]!) : '_form';
    return { [id]: err.message };
  }
  return { _form: err instanceof Error ? err.message : String(err) };
}

export function formError(errors: Record<string, string>): TemplateResult | typeof nothing {
  return errors._form ? html`<p class="error" role="alert">${errors._form}</p>` : nothing;
}

/** The named values of a form. */
export function formValues(form: HTMLFormElement): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new FormData(form)) if (typeof v === 'string') out[k] = v;
  return out;
}
