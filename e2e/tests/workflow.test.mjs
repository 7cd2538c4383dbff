// The case registry in a real browser (runs after review.test.mjs, which escalates an alert): the
// investigator opens the case created from that alert, links a second alert by hand, downloads an
// access's inclusion proof, fills in the facts, moves the case through its lifecycle (recording
// that the breach notification was sent) to closed, and finds it in the report. Pages are checked
// with axe-core.
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
  const linked = await page.locator("#case-evidence-alerts a[href^='/alerts/AL-']").count();
  assert.ok(linked >= 1, "the alert is linked as evidence");

  // A second alert of the organisation, linked by its handle.
  const linkedHandles = await page.locator("#case-evidence-alerts a").allTextContents();
  await page.goto("/alerts");
  const handles = (await page.locator("a[href^='/alerts/AL-']").evaluateAll((as) => as.map((a) => a.getAttribute("href").slice("/alerts/".length))))
    .filter((h) => !linkedHandles.includes(h));
  assert.ok(handles.length >= 1, "another alert in the queue");
  await page.goto(href);
  await page.check("input[name=kind][value=alert]");
  await page.fill("#case-evidence-reference", handles[0]);
  await page.click("form[action$='/evidence'] button[type=submit]");
  await page.waitForURL(/#case-evidence$/);
  assert.equal(await page.locator("#case-evidence-alerts a[href^='/alerts/AL-']").count(), linked + 1, "the second alert is linked");
  // An unknown handle is refused with a message.
  await page.fill("#case-evidence-reference", "AL-does-not-exist");
  await page.click("form[action$='/evidence'] button[type=submit]");
  assert.match(await page.locator("#case-evidence-error").textContent(), /signaal/i, "an unknown alert is refused");
  await assertAccessible(page, "a case page with an evidence error");

  // Each linked access has its inclusion proof in the event ledger.
  const proofHref = await page.locator("#case-evidence-events a[href$='/proof']").first().getAttribute("href");
  const proof = await context.request.get(proofHref);
  assert.equal(proof.status(), 200);
  const proofJson = await proof.json();
  assert.ok(Array.isArray(proofJson.inclusion_proof) && proofJson.checkpoint.includes("\n"), "a proof with its signed checkpoint");
  await page.goto(href);

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
    if (to === "decided") {
      // Established unlawful access: the breach duties, and the notification recorded as sent.
      await assertAccessible(page, "a case page with the data-breach duties");
      await page.click("form[aria-label^='Melding'] button[type=submit]");
      await page.goto(href);
      assert.match(await page.locator("#case-authority-sent").textContent(), /binnen de termijn/, "the notification is recorded in time");
    }
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
