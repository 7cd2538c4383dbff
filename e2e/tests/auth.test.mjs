// Authentication and authorization as a browser sees them: nothing without login, wrong passwords
// refused with one generic message, CSRF-less posts refused, no access across organisations, and
// roles enforced by the server, not only by hidden buttons.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, PASSWORD, launch, loginAs, assertAccessible } from "./harness.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("every page sends an anonymous visitor to the login page, and the API answers 401", async () => {
  const context = await browser.newContext({ baseURL: BASE });
  const page = await context.newPage();
  for (const path of ["/", "/alerts", "/reveals", "/audit", "/samples", "/rules", "/precision"]) {
    await page.goto(path);
    assert.equal(new URL(page.url()).pathname, "/login", `${path} without login`);
  }
  const api = await context.request.get("/api/v1/alerts");
  assert.equal(api.status(), 401);
  await assertAccessible(page, "the login page");
  await context.close();
});

test("a wrong password is refused with a generic message", async () => {
  const context = await browser.newContext({ baseURL: BASE });
  const page = await context.newPage();
  await page.goto("/login");
  await page.fill("#username", "reviewer");
  await page.fill("#password", "not-the-password-at-all");
  await page.click("button[type=submit]");
  assert.equal(new URL(page.url()).pathname, "/login");
  const error = await page.locator("[role=alert]").textContent();
  assert.ok(error && error.trim().length > 0, "an error is shown");
  await page.fill("#username", "nobody-by-this-name");
  await page.fill("#password", "not-the-password-at-all");
  await page.click("button[type=submit]");
  assert.equal(await page.locator("[role=alert]").textContent(), error, "unknown user and wrong password read the same");
  await context.close();
});

test("the interface speaks Dutch by default and English on request", async () => {
  const { context, page } = await loginAs(browser, "reviewer");
  await page.goto("/alerts");
  assert.equal(await page.getAttribute("html", "lang"), "nl");
  await page.goto("/alerts?lang=en");
  assert.equal(await page.getAttribute("html", "lang"), "en");
  await page.goto("/alerts");
  assert.equal(await page.getAttribute("html", "lang"), "en", "the choice is remembered");
  await context.close();
});

test("a state-changing request without the CSRF token is refused", async () => {
  const { context, page } = await loginAs(browser, "reviewer");
  await page.goto("/alerts");
  const href = await page.locator("main a[href^='/alerts/']").first().getAttribute("href");
  assert.ok(href, "the demo world has alerts");
  const response = await context.request.post(`${href}/dismiss`, {
    form: { reason: "other", note: "no token" },
    maxRedirects: 0,
  });
  assert.equal(response.status(), 403);
  await page.goto(href);
  assert.equal(await page.locator("form[action$='/dismiss']").count(), 1, "the alert is still open");
  await context.close();
});

test("nothing of another organisation is visible", async () => {
  const own = await loginAs(browser, "reviewer");
  await own.page.goto("/alerts");
  const href = await own.page.locator("main a[href^='/alerts/']").first().getAttribute("href");
  const other = await loginAs(browser, "kmar-reviewer");
  const response = await other.page.goto(href);
  assert.equal(response.status(), 404);
  await other.page.goto("/alerts");
  assert.equal(await other.page.locator("main a[href^='/alerts/']").count(), 0, "another organisation's queue is empty");
  const api = await other.context.request.get(`/api${href.replace("/alerts/", "/v1/alerts/")}`);
  assert.equal(api.status(), 404);
  await own.context.close();
  await other.context.close();
});

test("a reviewer cannot reveal an identity, not even by posting the form", async () => {
  const { context, page } = await loginAs(browser, "reviewer");
  await page.goto("/alerts");
  const href = await page.locator("main a[href^='/alerts/']").first().getAttribute("href");
  await page.goto(href);
  assert.equal(await page.locator("form[action$='/reveal']").count(), 0, "no reveal form for a reviewer");
  const csrf = await page.locator("input[name=csrf]").first().inputValue();
  const response = await context.request.post(`${href}/reveal`, {
    form: { csrf, target: "employee", reason: "curious" },
    maxRedirects: 0,
  });
  assert.equal(response.status(), 403);
  await context.close();
});

test("an administrator manages the organisation's accounts but has no alert queue", async () => {
  const { context, page } = await loginAs(browser, "admin");
  assert.equal(new URL(page.url()).pathname, "/admin/users", "an administrator lands on the accounts");
  await assertAccessible(page, "the accounts page");
  const users = await page.locator("main").textContent();
  assert.match(users, /reviewer/);
  assert.doesNotMatch(users, /kmar-reviewer/, "accounts of another organisation are not listed");
  await page.goto("/admin/grants");
  await assertAccessible(page, "the role grants page");
  assert.match(await page.locator("main").textContent(), /onderzoeker/, "the confirmed investigator grant is listed");
  const response = await page.goto("/alerts");
  assert.equal(response.status(), 403);
  assert.ok(PASSWORD.length >= 12);
  await context.close();
});
