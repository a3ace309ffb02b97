// Debian's Chromium, driven by playwright-core (no browser download): headless, as root, with a
// fresh profile. Every page error and console error fails the test that opened the page.
import { chromium } from 'playwright-core';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export async function launch() {
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ARGS });
}

/**
 * A new page that records page errors and console errors into `page.problems`, and every console
 * message (any type, the workers' included) into `page.messages`.
 */
export async function openPage(browser, url) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.problems = [];
  page.messages = [];
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    page.messages.push(`${m.type()}: ${m.text()}`);
    if (m.type() === 'error') page.problems.push(`console.error: ${m.text()} (${m.location().url})`);
  });
  await page.goto(url);
  await page.waitForFunction(() => window.airproverReady === true || window.airproverFailed, null, { timeout: 60_000 });
  const failed = await page.evaluate(() => window.airproverFailed);
  if (failed) throw new Error(`the test page did not load: ${failed}`);
  return page;
}
