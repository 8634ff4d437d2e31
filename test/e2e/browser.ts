// Real Chromium for the console's end-to-end tests: /usr/bin/chromium (Debian package, scripts/install-peers) driven
// by playwright-core (no browser download), a fresh profile per run, axe-core for accessibility, screenshots on disk.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { PROJECT_ROOT } from '../helpers/relais-process.js';

export const CHROMIUM = process.env.RELAIS_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.join(PROJECT_ROOT, 'test/e2e/screenshots');

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** `ignoreHTTPSErrors`: accept the box's self-signed certificate (the console over HTTPS). */
export async function launchChromium(viewport = { width: 1280, height: 720 }, opts: { ignoreHTTPSErrors?: boolean } = {}): Promise<Browser> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'relais-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport,
    locale: 'en-GB',
    bypassCSP: true,
    ...(opts.ignoreHTTPSErrors ? { ignoreHTTPSErrors: true } : {}),
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; html: string }[];
}

/** WCAG 2.1 A/AA rules on the page as it is now; the serious and critical violations. */
export async function axeSerious(page: Page): Promise<AxeViolation[]> {
  // (bypassCSP lets the test inject axe into a page whose CSP allows only the appliance's own scripts.)
  if (!(await page.evaluate('"axe" in window'))) await page.addScriptTag({ path: AXE });
  // A string: the test is compiled without the DOM library.
  const violations = (await page.evaluate(`(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => ({ target: n.target, html: n.html.slice(0, 200) })) }));
  })()`)) as AxeViolation[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Saves the page's screenshot under this name and fails on any serious or critical axe violation. */
export async function assertAccessible(page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  const v = await axeSerious(page);
  if (v.length > 0) throw new Error(`${name}: axe finds ${JSON.stringify(v, null, 1)}`);
}

/** Logs in from the login page and waits for the console (whichever page it opens on). */
export async function logIn(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
}

/** Opens a page from the menu and waits for its heading. */
export async function openPage(page: Page, label: string): Promise<void> {
  const link = page.getByRole('navigation').getByRole('link', { name: label, exact: true });
  const heading = page.getByRole('heading', { level: 1, name: label });
  // A click that lands while the console is still re-rendering its menu right after the login was seen lost once in
  // three CI runs (the page never opened); the menu is clicked again then, at most three times.
  for (let attempt = 1; ; attempt++) {
    await link.click();
    try {
      await heading.waitFor({ timeout: 10_000 });
      return;
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}
