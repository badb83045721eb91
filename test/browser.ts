import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';

/** Debian's chromium; `npx playwright install` cannot download browsers on CI machines. */
export const CHROMIUM = '/usr/bin/chromium';
/** Without the networking flags chromium keeps trying to reach the network. */
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface OpenedPage {
  page: Page;
  /** Console errors and uncaught exceptions of the page. */
  errors: string[];
  /** Every URL the page requested (the page itself included). */
  requests: string[];
  close(): Promise<void>;
}

/** Opens a local HTML file in headless chromium, recording console errors and requests. */
export async function openInChromium(file: string, width = 1280): Promise<OpenedPage> {
  const profile = mkdtempSync(join(tmpdir(), 'infra-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width, height: 900 },
  });
  const page = await context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
  page.on('pageerror', (e) => void errors.push(e.message));
  page.on('request', (r) => void requests.push(r.url()));
  await page.goto(`file://${file}`, { waitUntil: 'load' });
  return {
    page,
    errors,
    requests,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Per figure of the page, how many marks each named chart layer drew. */
export function countMarks(page: Page, layers: readonly string[]): Promise<Array<Record<string, number>>> {
  return page.evaluate(
    (names) =>
      [...document.querySelectorAll('figure')].map((f) =>
        Object.fromEntries(
          names.map((n) => [n, f.querySelectorAll(`g.${n}_marks > path, g.${n}_marks > text, g.${n}_marks > line`).length]),
        ),
      ),
    layers,
  );
}
