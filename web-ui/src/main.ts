// The console's shell: session (login, first-run setup), language, navigation by rights, lazy-loaded pages.
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { ApiError, onUnauthorized } from './data/api.js';
import { live } from './data/live.js';
import { currentSession, hasRight, logout, setupPending, type Right, type SessionUser } from './data/session.js';
import { getSettings } from './data/settings.js';
import { browserLanguage, language, setLanguage, setTimeZone, t, type MessageKey } from './i18n.js';
import './pages/login.js';
import './components/notification-bell.js';

interface PageDef {
  path: string;
  title: MessageKey;
  right: Right | 'admin' | null;
  tag: string;
  load: () => Promise<unknown>;
}

const PAGES: PageDef[] = [
  { path: '/', title: 'navDashboard', right: null, tag: 'page-dashboard', load: () => import('./pages/dashboard.js') },
  { path: '/users', title: 'navUsers', right: 'users', tag: 'page-users', load: () => import('./pages/users.js') },
  { path: '/calls', title: 'navCalls', right: null, tag: 'page-calls', load: () => import('./pages/calls.js') },
  { path: '/inbox', title: 'navInbox', right: 'calls', tag: 'page-inbox', load: () => import('./pages/inbox.js') },
  { path: '/jobs', title: 'navJobs', right: 'calls', tag: 'page-jobs', load: () => import('./pages/jobs.js') },
  { path: '/sounds', title: 'navSounds', right: 'sounds', tag: 'page-sounds', load: () => import('./pages/sounds.js') },
  { path: '/trunks', title: 'navTrunks', right: 'trunks', tag: 'page-trunks', load: () => import('./pages/trunks.js') },
  { path: '/numbers', title: 'navNumbers', right: 'numbers', tag: 'page-numbers', load: () => import('./pages/numbers.js') },
  { path: '/scenarios', title: 'navScenarios', right: 'scenarios', tag: 'page-scenarios', load: () => import('./pages/scenarios.js') },
  { path: '/services', title: 'navServices', right: 'scenarios', tag: 'page-services', load: () => import('./pages/services.js') },
  { path: '/queues', title: 'navQueues', right: 'queues', tag: 'page-queues', load: () => import('./pages/queues.js') },
  { path: '/callbacks', title: 'navCallbacks', right: 'callbacks', tag: 'page-callbacks', load: () => import('./pages/callbacks.js') },
  { path: '/phones', title: 'navPhones', right: 'phones', tag: 'page-phones', load: () => import('./pages/phones.js') },
  { path: '/wallboard', title: 'navWallboard', right: 'admin', tag: 'page-wallboard', load: () => import('./pages/wallboard.js') },
  { path: '/settings', title: 'navSettings', right: null, tag: 'page-settings', load: () => import('./pages/settings.js') },
  { path: '/system', title: 'navSystem', right: 'admin', tag: 'page-system', load: () => import('./pages/system.js') },
];

const LANG_KEY = 'relais.language';

export class RelaisApp extends LitElement {
  static override properties = {
    user: { state: true },
    mode: { state: true },
    path: { state: true },
    ready: { state: true },
    connected: { state: true },
    officeName: { state: true },
    menuOpen: { state: true },
  };

  declare user: SessionUser | null;
  declare mode: 'loading' | 'login' | 'setup' | 'app' | 'wallboard';
  declare path: string;
  declare ready: boolean;
  declare connected: boolean;
  declare officeName: string;
  declare menuOpen: boolean;

  constructor() {
    super();
    this.user = null;
    this.mode = 'loading';
    this.path = location.pathname;
    this.ready = false;
    this.connected = false;
    this.officeName = '';
    this.menuOpen = false;
    window.addEventListener('popstate', () => this.go(location.pathname, false));
    onUnauthorized(() => this.loggedOut());
    // A page's own link to another page (`/scenarios?scenario=main`): no reload.
    this.addEventListener('navigate', (e) => this.go((e as CustomEvent<string>).detail));
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.boot();
  }

  private async boot(): Promise<void> {
    await setLanguage(localStorage.getItem(LANG_KEY) ?? browserLanguage());
    // A TV opens /wallboard?token=…: the board alone, no login (the token reads the queues and nothing else).
    if (location.pathname === '/wallboard' && new URLSearchParams(location.search).get('token')) {
      await import('./pages/wallboard.js');
      this.mode = 'wallboard';
      document.title = `${t('navWallboard')} — Relais`;
      return;
    }
    try {
      this.user = await currentSession();
      await this.enter();
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) throw err;
      this.mode = location.pathname === '/setup' || (await setupPending().catch(() => false)) ? 'setup' : 'login';
    }
  }

  private async enter(): Promise<void> {
    try {
      const s = await getSettings();
      setTimeZone(s.effectiveTimezone);
      this.officeName = s.name;
    } catch {
      /* the console works without them */
    }
    this.mode = 'app';
    if (this.path === '/login' || this.path === '/setup') this.go('/', true);
    live.subscribe((state) => {
      if (state.connected !== this.connected) this.connected = state.connected;
    });
    await this.loadPage();
  }

  private loggedOut(): void {
    live.stop();
    this.user = null;
    this.mode = 'login';
  }

  private page(): PageDef {
    return PAGES.find((p) => p.path === this.path) ?? PAGES[0]!;
  }

  private async loadPage(): Promise<void> {
    this.ready = false;
    await this.page().load();
    this.ready = true;
  }

  go(path: string, push = true): void {
    if (push) history.pushState(null, '', path);
    this.path = path.split('?')[0]!;
    this.menuOpen = false;
    void this.loadPage().then(() => {
      document.title = `${t(this.page().title)} — Relais`;
      this.renderRoot.querySelector<HTMLElement>('main')?.focus();
    });
  }

  private async changeLanguage(e: Event): Promise<void> {
    const l = (e.target as HTMLSelectElement).value;
    localStorage.setItem(LANG_KEY, l);
    await setLanguage(l);
    // Pages get the language as a property: they re-render in it.
    this.requestUpdate();
  }

  private async doLogout(): Promise<void> {
    await logout().catch(() => undefined);
    this.loggedOut();
    history.pushState(null, '', '/login');
  }

  private link(p: PageDef): TemplateResult {
    return html`<li>
      <a
        href=${p.path}
        aria-current=${this.path === p.path ? 'page' : 'false'}
        @click=${(e: MouseEvent) => {
          if (e.ctrlKey || e.metaKey || e.shiftKey) return;
          e.preventDefault();
          this.go(p.path);
        }}
        >${t(p.title)}</a
      >
    </li>`;
  }

  override render(): TemplateResult {
    if (this.mode === 'loading') return html`<p class="loading">${t('loading')}</p>`;
    if (this.mode === 'wallboard') return html`<wallboard-board .token=${new URLSearchParams(location.search).get('token') ?? ''} .lang=${language()}></wallboard-board>`;
    if (this.mode === 'login' || this.mode === 'setup') {
      return html`<relais-login
        .mode=${this.mode}
        @logged-in=${(e: CustomEvent<SessionUser>) => {
          this.user = e.detail;
          void this.enter();
        }}
      ></relais-login>`;
    }
    const user = this.user!;
    const visible = PAGES.filter((p) => p.right === null || hasRight(user, p.right));
    const page = this.page();
    const allowed = page.right === null || hasRight(user, page.right);
    return html`
      <a class="skip" href="#main">${t('skipToContent')}</a>
      <header>
        <button class="menu" aria-expanded=${this.menuOpen ? 'true' : 'false'} aria-controls="nav" @click=${() => (this.menuOpen = !this.menuOpen)}>${t('menu')}</button>
        <span class="brand">Relais${this.officeName ? html` <span class="office">· ${this.officeName}</span>` : nothing}</span>
        <span class="live ${this.connected ? 'on' : 'off'}" role="status">${this.connected ? t('live') : t('offline')}</span>
        <label class="lang"
          ><span class="visually-hidden">${t('languageLabel')}</span>
          <select @change=${(e: Event) => void this.changeLanguage(e)} aria-label=${t('languageLabel')}>
            ${(['fr', 'en', 'es'] as const).map((l) => html`<option value=${l} ?selected=${language() === l}>${{ fr: 'Français', en: 'English', es: 'Español' }[l]}</option>`)}
          </select></label
        >
        <notification-bell .user=${user} .lang=${language()} @navigate=${(e: CustomEvent<string>) => this.go(e.detail)}></notification-bell>
        <span class="user">${user.name || user.username}</span>
        <button class="secondary" @click=${() => void this.doLogout()}>${t('logout')}</button>
      </header>
      <div class="body">
        <nav id="nav" aria-label=${t('mainMenu')} class=${this.menuOpen ? 'open' : ''}>
          <ul>
            ${visible.map((p) => this.link(p))}
          </ul>
        </nav>
        <main id="main" tabindex="-1">
          ${!allowed
            ? html`<p class="error">${t('forbidden')}</p>`
            : this.ready
              ? pageElement(page, user)
              : html`<p>${t('loading')}</p>`}
        </main>
      </div>
    `;
  }

  static override styles = css`
    :host {
      display: block;
      min-height: 100vh;
    }
    .skip {
      position: absolute;
      left: -999px;
    }
    .skip:focus {
      left: 0.5rem;
      top: 0.5rem;
      background: #fff;
      padding: 0.5rem;
      z-index: 10;
    }
    header {
      display: flex;
      align-items: center;
      gap: 0.75rem;
      padding: 0.5rem 1rem;
      background: #12355f;
      color: #fff;
      flex-wrap: wrap;
    }
    .brand {
      font-weight: 700;
      font-size: 1.15rem;
      margin-right: auto;
    }
    .office {
      font-weight: 400;
    }
    .live {
      font-size: 0.85rem;
      padding: 0.1rem 0.5rem;
      border-radius: 999px;
    }
    .live.on {
      background: #d7f0dd;
      color: #14532d;
    }
    .live.off {
      background: #fde8c8;
      color: #7a3e00;
    }
    select {
      font: inherit;
      padding: 0.2rem;
    }
    button {
      font: inherit;
      padding: 0.35rem 0.8rem;
      border-radius: 4px;
      border: 1px solid #fff;
      background: transparent;
      color: #fff;
      cursor: pointer;
    }
    button.menu {
      display: none;
    }
    .body {
      display: flex;
      min-height: calc(100vh - 3rem);
    }
    nav {
      width: 14rem;
      flex: none;
      background: #fff;
      border-right: 1px solid #d5dbe3;
    }
    nav ul {
      list-style: none;
      margin: 0;
      padding: 0.5rem 0;
    }
    nav a {
      display: block;
      padding: 0.55rem 1rem;
      color: #1b2430;
      text-decoration: none;
    }
    nav a:hover {
      background: #eef2f6;
    }
    nav a[aria-current='page'] {
      background: #e1ebf7;
      color: #12355f;
      font-weight: 600;
      border-left: 4px solid #1d4f91;
    }
    main {
      flex: 1;
      padding: 1rem 1.5rem;
      min-width: 0;
      outline: none;
    }
    :focus-visible {
      outline: 3px solid #f2a900;
      outline-offset: 2px;
    }
    .visually-hidden {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip: rect(0 0 0 0);
    }
    .error {
      color: #b00020;
    }
    @media (max-width: 760px) {
      button.menu {
        display: inline-block;
      }
      .user {
        display: none;
      }
      nav {
        display: none;
        position: absolute;
        z-index: 5;
        box-shadow: 0 4px 12px rgba(0, 0, 0, 0.2);
      }
      nav.open {
        display: block;
      }
      main {
        padding: 0.75rem;
      }
    }
  `;
}

function pageElement(page: PageDef, user: SessionUser): TemplateResult {
  // Each page is its own custom element, defined once its chunk is loaded.
  switch (page.tag) {
    case 'page-dashboard':
      return html`<page-dashboard .user=${user} .lang=${language()}></page-dashboard>`;
    case 'page-users':
      return html`<page-users .user=${user} .lang=${language()}></page-users>`;
    case 'page-calls':
      return html`<page-calls .user=${user} .lang=${language()}></page-calls>`;
    case 'page-inbox':
      return html`<page-inbox .user=${user} .lang=${language()}></page-inbox>`;
    case 'page-wallboard':
      return html`<page-wallboard .user=${user} .lang=${language()}></page-wallboard>`;
    case 'page-jobs':
      return html`<page-jobs .user=${user} .lang=${language()}></page-jobs>`;
    case 'page-sounds':
      return html`<page-sounds .user=${user} .lang=${language()}></page-sounds>`;
    case 'page-trunks':
      return html`<page-trunks .user=${user} .lang=${language()}></page-trunks>`;
    case 'page-settings':
      return html`<page-settings .user=${user} .lang=${language()}></page-settings>`;
    case 'page-queues':
      return html`<page-queues .user=${user} .lang=${language()}></page-queues>`;
    case 'page-callbacks':
      return html`<page-callbacks .user=${user} .lang=${language()}></page-callbacks>`;
    case 'page-phones':
      return html`<page-phones .user=${user} .lang=${language()}></page-phones>`;
    case 'page-system':
      return html`<page-system .user=${user} .lang=${language()}></page-system>`;
    case 'page-numbers':
      return html`<page-numbers .user=${user} .lang=${language()}></page-numbers>`;
    case 'page-scenarios':
      return html`<page-scenarios .user=${user} .lang=${language()}></page-scenarios>`;
    case 'page-services':
      return html`<page-services .user=${user} .lang=${language()}></page-services>`;
    default:
      return html`<page-coming .what=${t(page.title)} .lang=${language()}></page-coming>`;
  }
}

customElements.define('relais-app', RelaisApp);
