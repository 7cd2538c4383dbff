// The review work in a real browser: triage an alert, request and approve a reveal (and fail to
// approve one's own), escalate an alert to a case, and run a random-sample audit to its estimate.
// Every page visited is checked with axe-core against WCAG 2.1 A and AA.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, loginAs, assertAccessible } from "./harness.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** The queue's alert links, in queue order (highest score first). */
async function alertLinks(page) {
  await page.goto("/alerts");
  return page.locator("main table a[href^='/alerts/']").evaluateAll((links) => links.map((a) => a.getAttribute("href")));
}

test("a reviewer opens the queue and an alert, and dismisses it with a reason", async () => {
  const { context, page } = await loginAs(browser, "reviewer");
  const links = await alertLinks(page);
  assert.ok(links.length >= 3, `the demo world gives alerts (got ${links.length})`);
  await assertAccessible(page, "the alert queue");

  const href = links[links.length - 1];
  await page.goto(href);
  await assertAccessible(page, "an alert page");
  assert.ok(await page.locator("main svg[role=img]").count() >= 1, "the activity chart is drawn");
  assert.match(await page.locator("main").textContent(), /MW-[0-9A-Z]{8}/, "the employee is shown by pseudonym");

  await page.selectOption("#dismiss-reason", "work_not_recorded");
  await page.fill("#dismiss-note", "Dienstopdracht van de teamchef, niet geregistreerd.");
  await page.click("form[action$='/dismiss'] button[type=submit]");
  await page.goto(href);
  assert.equal(await page.locator(".status-dismissed").count(), 1, "the alert shows as dismissed");
  assert.match(await page.locator("main").textContent(), /Dienstopdracht van de teamchef/);
  await context.close();
});

test("a reveal needs a second person: self-approval fails, an approver's approval reveals", async () => {
  const requester = await loginAs(browser, "investigator");
  const links = await alertLinks(requester.page);
  const href = links[0];
  await requester.page.goto(href);
  const pseudonymBefore = await requester.page.locator("main dd .pseudonym").first().textContent();
  await requester.page.selectOption("#reveal-target", "employee");
  await requester.page.fill("#reveal-reason", "Nodig om het dossier voor te bereiden.");
  await requester.page.click("form[action$='/reveal'] button[type=submit]");

  await requester.page.goto("/reveals");
  await assertAccessible(requester.page, "the reveals page");
  assert.equal(await requester.page.locator("form[action$='/approve']").count(), 0, "the requester cannot approve their own request");
  await requester.page.goto(href);
  assert.doesNotMatch(await requester.page.locator("main dl").textContent(), /—/, "still pseudonymous before approval");

  const approver = await loginAs(browser, "approver");
  await approver.page.goto("/reveals");
  const approve = approver.page.locator("form[action$='/approve'] button[type=submit]");
  assert.ok((await approve.count()) >= 1, "the approver sees the pending request");
  await approve.first().click();

  await requester.page.goto(href);
  const employee = await requester.page.locator("main dl").textContent();
  assert.ok(employee.includes(pseudonymBefore.trim()), "the pseudonym stays");
  assert.match(employee, /—/, "the real identity is shown after approval");

  const privacy = await loginAs(browser, "privacy");
  await privacy.page.goto("/reveals");
  assert.match(await privacy.page.locator("main").textContent(), /Nodig om het dossier voor te bereiden/, "the privacy officer sees the reveal and its reason");
  for (const s of [requester, approver, privacy]) await s.context.close();
});

test("an investigator escalates an alert to a case", async () => {
  const { context, page } = await loginAs(browser, "investigator");
  const links = await alertLinks(page);
  const href = links[1];
  await page.goto(href);
  await page.fill("#escalate-note", "Patroon van opvragingen in een afgeschermd onderzoek.");
  await page.click("form[action$='/escalate'] button[type=submit]");
  await page.goto(href);
  assert.equal(await page.locator(".status-escalated").count(), 1, "the alert shows as escalated");
  assert.match(await page.locator("main dl").textContent(), /CASE-\d{4}-\d+/, "the case number is shown");
  await context.close();
});

test("a random-sample audit: the auditor draws, a reviewer judges, the report estimates", async () => {
  const auditor = await loginAs(browser, "auditor");
  await auditor.page.goto("/samples");
  await assertAccessible(auditor.page, "the samples page");
  await auditor.page.fill("#s-from", "2025-03-03");
  await auditor.page.fill("#s-until", "2025-03-23");
  await auditor.page.fill("#s-size", "12");
  await auditor.page.fill("#s-min", "0");
  await auditor.page.fill("#s-seed", "20250303");
  await auditor.page.click("form[action='/samples'] button[type=submit]");
  const samplePath = new URL(auditor.page.url()).pathname;
  assert.match(samplePath, /^\/samples\/[^/]+$/, "the draw opens the sample");
  assert.match(await auditor.page.locator("main").textContent(), /20250303/, "the seed is recorded");

  const reviewer = await loginAs(browser, "reviewer");
  await reviewer.page.goto(samplePath);
  await assertAccessible(reviewer.page, "a sample");
  const forms = await reviewer.page.locator("form[action*='/items/']").evaluateAll((fs) => fs.map((f) => f.getAttribute("action")));
  assert.ok(forms.length >= 10, `the sample has its items (got ${forms.length})`);
  for (const [i, action] of forms.entries()) {
    await reviewer.page.goto(samplePath);
    const form = reviewer.page.locator(`form[action='${action}']`);
    await form.locator("select[name=judgement]").selectOption(i === 0 ? "unlawful" : "lawful");
    await form.locator("input[name=note]").fill(`beoordeling ${i + 1}`);
    await form.locator("button[type=submit]").click();
  }

  await auditor.page.goto(`${samplePath}/report`);
  await assertAccessible(auditor.page, "the sample report");
  const report = await auditor.page.locator("main").textContent();
  assert.match(report, /95%/, "the confidence level is stated");
  assert.ok(report.includes(`: ${forms.length}.`), `all ${forms.length} judgements are counted`);
  const csv = await auditor.context.request.get(`${samplePath}/report.csv`);
  assert.equal(csv.status(), 200);
  const lines = (await csv.text()).trim().split("\n");
  assert.ok(lines.length >= 2, "the CSV has a header and rows");
  await auditor.context.close();
  await reviewer.context.close();
});
