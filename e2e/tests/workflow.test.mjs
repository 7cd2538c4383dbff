// The case registry in a real browser (runs after review.test.mjs, which escalates an alert): the
// investigator opens the case created from that alert, fills in its facts, moves it through its
// lifecycle to closed, and finds it in the report. Pages are checked with axe-core.
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

test("a case from an alert is filled in, closed and counted in the report", async () => {
  const { context, page } = await loginAs(browser, "investigator");
  await page.goto("/cases");
  await assertAccessible(page, "the case list");
  const href = await page.locator("#cases-table a[href^='/cases/CASE-']").first().getAttribute("href");
  assert.ok(href, "the escalated alert became a case");
  await page.goto(href);
  await assertAccessible(page, "a case page");
  assert.ok((await page.locator("#case-evidence-alerts a[href^='/alerts/AL-']").count()) >= 1, "the alert is linked as evidence");

  await page.selectOption("#case-violation", "disclosure");
  await page.selectOption("#case-recipient", "criminal");
  await page.selectOption("#case-initiative", "recipient");
  await page.selectOption("#case-use", "shared_with_third_party");
  await page.check("#case-information-address");
  await page.check("#case-steps-log_analysis");
  await page.fill("#case-suspect_function", "hoofdagent");
  await page.fill("#case-years_of_service", "12");
  await page.click("form[action$='/edit'] button[type=submit]");
  await page.goto(href);
  assert.match(await page.locator("#case-facts").textContent(), /hoofdagent/, "the facts are saved");

  for (const [to, outcome] of [["under_investigation"], ["decided", "dismissal"], ["closed"]]) {
    if (outcome) {
      await page.selectOption("#case-outcome", outcome);
      await page.fill("#case-closure_date", "");
      await page.click("form[action$='/edit'] button[type=submit]");
      await page.goto(href);
    }
    await page.selectOption("#case-status-to", to);
    await page.fill("#case-status-note", `naar ${to}`);
    await page.click("form[action$='/status'] button[type=submit]");
    await page.goto(href);
    assert.match(await page.locator("#case-history").textContent(), new RegExp(`naar ${to}`), `moved to ${to}`);
  }

  await page.goto("/reports");
  await assertAccessible(page, "the report page");
  assert.match(await page.locator("#report-disclosure").textContent(), /1/, "the disclosure to a criminal is counted");
  const csv = await context.request.get("/reports.csv");
  assert.equal(csv.status(), 200);
  const pdf = await context.request.get("/reports.pdf");
  assert.equal(pdf.status(), 200);
  assert.equal((await pdf.body()).subarray(0, 4).toString(), "%PDF");
  await context.close();
});
