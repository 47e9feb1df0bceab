// Shared by the browser tests: Debian's headless Chromium driven by
// playwright-core (never a downloaded browser), the web/serve.mjs static
// server, and the rule for skipping.
//
// Skip rule: the tests SKIP, with a message saying why, only when Chromium is
// absent and CI is not set. Under CI (CI=true, where `make setup` installs
// Chromium) a missing browser is a failure.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TEST_OUTPUT = path.join(REPO, 'test-output');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const IN_CI = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'];

/** Why the browser tests skip here, or undefined when they run. */
export function skipReason() {
  if (fs.existsSync(CHROMIUM) || IN_CI) return undefined;
  return `Chromium not found at ${CHROMIUM} and CI is not set: browser tests skipped ` +
    '(apt-get install chromium, or `make setup`, to run them)';
}

/** node:test's test(), skipped with the reason above when there is no browser. */
export function browserTest(name, options, fn) {
  if (typeof options === 'function') { fn = options; options = {}; }
  const skip = skipReason();
  if (skip) return test(name, { ...options, skip }, fn);
  return test(name, options, fn);
}

/**
 * Starts headless Chromium with a fresh profile folder (its own Cache API
 * storage). Closed, and the profile removed, when `t` ends.
 * @returns {Promise<import('playwright-core').BrowserContext>}
 */
export async function launch(t) {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`CI is set but Chromium is missing at ${CHROMIUM}: \`make setup\` installs it (apt-get install chromium)`);
  }
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    throw new Error(`playwright-core is not installed (npm ci installs the devDependencies): ${e.message}`);
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1000, height: 1100 },
    timeout: 60_000,
  });
  t.after(async () => {
    await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  });
  return context;
}

/**
 * A page that forwards its console errors and uncaught exceptions to the test
 * log, so a failure in the browser is visible in `node --test` output.
 */
export async function newPage(context) {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log(`[page error] ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error' && !/404/.test(m.text())) console.log(`[console] ${m.text()}`); });
  return page;
}

export function ensureOutputDir() {
  fs.mkdirSync(TEST_OUTPUT, { recursive: true });
  return TEST_OUTPUT;
}
