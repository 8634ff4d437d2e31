// A clear "coming" state for modules whose API has not landed on this appliance yet.
import { html, type TemplateResult } from 'lit';
import { PageElement } from '../components/page.js';
import { t } from '../i18n.js';

export class PageComing extends PageElement {
  static override properties = { ...PageElement.properties, what: { attribute: false } };
  declare what: string;

  override render(): TemplateResult {
    return html`<h1>${this.what}</h1>
      <section class="card">
        <h2>${t('comingTitle')}</h2>
        <p>${t('comingText', { what: this.what })}</p>
      </section>`;
  }
}

customElements.define('page-coming', PageComing);
