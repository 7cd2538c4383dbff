// Shared set-up for the browser tests: Debian's Chromium driven by playwright-core, the server
// started by .ci/e2e (E2E_URL) and the accounts it created (E2E_PASSWORD), login, and an axe-core
// accessibility check (WCAG 2.1 A and AA rules) of the current page.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

export const BASE = process.env.E2E_URL;
export const PASSWORD = process.env.E2E_PASSWORD;
if (!BASE || !PASSWORD) {
  throw new Error("E2E_URL and E2E_PASSWORD must be set: run the browser tests through .ci/e2e");
}

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A fresh browser context (its own cookies) logged in as `username`. */
export async function loginAs(browser, username, { lang } = {}) {
  const context = await browser.newContext({ baseURL: BASE });
  const page = await context.newPage();
  await page.goto(lang ? `/login?lang=${lang}` : "/login");
  await page.fill("#username", username);
  await page.fill("#password", PASSWORD);
  await Promise.all([page.waitForURL((url) => !url.pathname.startsWith("/login")), page.click("button[type=submit]")]);
  return { context, page };
}

/** Runs axe-core on the page and fails with the violations listed when any WCAG 2.1 A/AA rule fails. */
export async function assertAccessible(page, what) {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }),
  );
  const found = result.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join("; ")}`,
  );
  assert.deepEqual(found, [], `${what} has accessibility violations`);
}
