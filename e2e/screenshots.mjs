// Screenshots of the main pages for the README, taken after the browser tests when E2E_SCREENSHOTS
// names a directory: `E2E_SCREENSHOTS=docs/screenshots bash .ci/e2e`.
import assert from "node:assert/strict";
import { launch, loginAs } from "./tests/harness.mjs";

const dir = process.env.E2E_SCREENSHOTS;
const browser = await launch();
try {
  const { context, page } = await loginAs(browser, "investigator");
  await page.setViewportSize({ width: 1280, height: 900 });
  const shoot = async (path, name) => {
    const response = await page.goto(path);
    assert.equal(response.status(), 200, path);
    await page.screenshot({ path: `${dir}/${name}.png` });
  };
  await shoot("/alerts", "alert-queue");
  const href = await page.locator("main table a[href^='/alerts/']").first().getAttribute("href");
  await shoot(href, "alert-page");
  await page.locator("main figure").scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${dir}/alert-activity.png` });
  await shoot("/reports", "reports");
  await page.goto("/cases");
  const caseHref = await page.locator("#cases-table a[href^='/cases/CASE-']").first().getAttribute("href");
  await page.goto(caseHref);
  await page.locator("#case-breach-title").evaluate((e) => e.scrollIntoView());
  await page.screenshot({ path: `${dir}/case-breach.png` });
  await context.close();

  const auditor = await loginAs(browser, "auditor");
  await auditor.page.setViewportSize({ width: 1280, height: 900 });
  await auditor.page.goto("/samples");
  const sample = await auditor.page.locator("main table a[href^='/samples/']").first().getAttribute("href");
  assert.ok(sample, "the browser tests drew a sample");
  await auditor.page.goto(`${sample}/report`);
  await auditor.page.screenshot({ path: `${dir}/sample-report.png` });
  await auditor.context.close();
} finally {
  await browser.close();
}
