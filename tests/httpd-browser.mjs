// The churn-httpd dashboard in a real browser: headless Chromium (Debian's
// /usr/bin/chromium) driven by npm playwright-core, against a churn-httpd on
// a temp workdir filled by `churn run --source synthetic:3000`.
// Checks: the page loads (body[data-loaded]) with nothing from outside and no
// script errors; the KPI cards equal /api/details; the models table, history
// chart and figures are present; the predict form's answer equals POST
// /api/predict for the same record; the page refreshes itself after another
// `churn ml`; a full-page screenshot is saved; a bank's file with identifiers
// and a leaking column shows the "Check the data" card; the champion and its
// challengers (/api/models) are in the registry table. Two more data runs
// (a new sample, then a source whose Contract mix moved: tests/gen-drift.py)
// fill the drift table: a row per compared column with its PSI, status and a
// sparkline over the runs, equal to /api/drift, Contract flagged.
// The alerts banner lists the latest runs' alerts of /api/alerts: column_psi
// after the moved Contract mix, schema_change after the bank's file.
//
// usage: node httpd-browser.mjs CHURN CHURN_HTTPD SCREENSHOT.png
// exit 77 (skip) when chromium or playwright-core is absent.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const [CHURN, HTTPD, SHOT] = process.argv.slice(2);
if (!CHURN || !HTTPD || !SHOT) {
  console.error("usage: node httpd-browser.mjs CHURN CHURN_HTTPD SCREENSHOT.png");
  process.exit(64);
}
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
if (!existsSync(CHROMIUM)) {
  console.log(`# SKIP ${CHROMIUM} not found (apt-get install chromium)`);
  process.exit(77);
}
let chromium;
try {
  const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), "..", "package.json"));
  ({ chromium } = require("playwright-core"));
} catch (e) {
  console.log("# SKIP playwright-core not installed (npm install in the source root): " + e.message);
  process.exit(77);
}

let passed = 0, failed = 0;
function check(cond, what, detail) {
  if (cond) { passed++; console.log("ok - " + what); }
  else { failed++; console.log("not ok - " + what + (detail === undefined ? "" : " " + JSON.stringify(detail))); }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const tmp = mkdtempSync(join(tmpdir(), "churn-browser-"));
const wd = join(tmp, "wd");
let server = null, context = null;

function churn(...args) {
  const r = spawnSync(CHURN, args, { encoding: "utf8", timeout: 900_000 });
  return { code: r.status, err: (r.stderr || "") + (r.error ? String(r.error) : "") };
}

// Model set: logreg,gbm unless this library lacks gbm; cox for the retention panel and the survival figures.
let models = "logreg,gbm,cox";
function runPipeline(...extra) {
  let r = churn(...extra, "--workdir", wd, "--quiet", "--models", models);
  if (r.code !== 0 && /is not built/.test(r.err)) {
    models = "logreg,cox";
    console.log("# gbm is not built: using --models logreg,cox");
    r = churn(...extra, "--workdir", wd, "--quiet", "--models", models);
  }
  return r;
}

async function startServer(env) {
  const proc = spawn(HTTPD, ["--workdir", wd, "--listen", "127.0.0.1:0", "--threads", "16", "--access-log", "off"],
    { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...(env || {}) } });
  let err = "";
  const port = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("churn-httpd did not start: " + err)), 10_000);
    proc.stderr.on("data", (d) => {
      err += d;
      const m = /\(port (\d+)/.exec(err);
      if (m) { clearTimeout(t); resolve(Number(m[1])); }
    });
    proc.on("exit", (c) => { clearTimeout(t); reject(new Error("churn-httpd exited " + c + ": " + err)); });
  });
  return { proc, base: `http://127.0.0.1:${port}` };
}

async function getJSON(url, init) {
  const r = await fetch(url, init);
  return { status: r.status, body: await r.json() };
}

try {
  const t0 = Date.now();
  const run = runPipeline("run", "--source", "synthetic:3000?seed=7");
  check(run.code === 0, `churn run --source synthetic:3000 (${((Date.now() - t0) / 1000).toFixed(1)} s)`, run.err.slice(-400));
  if (run.code !== 0) throw new Error("no workdir to serve");
  // drift: a new sample of the same mix, then the Contract mix moved on purpose
  const synthCsv = join(tmp, "synth.csv"), shifted = join(tmp, "contract.csv");
  const s1 = churn("synth", "--rows", "3000", "--seed", "7", "--out", synthCsv);
  const g1 = spawnSync("/usr/bin/python3", [join(dirname(fileURLToPath(import.meta.url)), "gen-drift.py"), "contract", synthCsv, shifted]);
  const dr1 = churn("data", "--source", "synthetic:3000?seed=8", "--workdir", wd, "--quiet");
  const dr2 = churn("data", "--source", shifted, "--workdir", wd, "--quiet");
  check(s1.code === 0 && g1.status === 0 && dr1.code === 0 && dr2.code === 0, "two more data runs (a new sample, Contract moved)",
    [s1.err, dr1.err, dr2.err].join(" ").slice(-400));
  server = await startServer();
  const base = server.base;

  context = await chromium.launchPersistentContext(join(tmp, "profile"), {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-quic", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1280, height: 900 },
  });
  const page = context.pages()[0] || await context.newPage();
  const outside = [], errors = [];
  page.on("request", (rq) => { if (!rq.url().startsWith(base + "/")) outside.push(rq.url()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("response", (r) => { if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`); });

  await page.goto(base + "/", { waitUntil: "load" });
  await page.waitForFunction(() => document.body.dataset.loaded, null, { timeout: 20_000 });
  check(true, "dashboard loaded (body[data-loaded])");

  // KPIs against /api/details
  const { body: d } = await getJSON(base + "/api/details");
  const kpi = await page.evaluate(() => Object.fromEntries(
    ["customers", "churn-rate", "last-run", "status", "best-model"].map((k) => [k, document.getElementById("kpi-" + k)?.dataset.value])));
  const last = d.last_model_run && d.last_model_run.finished_at >= (d.last_data_run || {}).finished_at ? d.last_model_run : d.last_data_run;
  check(Number(kpi.customers) === d.dataset.rows, "KPI customers = details.dataset.rows", [kpi.customers, d.dataset.rows]);
  check(Math.abs(Number(kpi["churn-rate"]) - d.dataset.churn_rate) < 1e-12, "KPI churn rate = details.dataset.churn_rate", [kpi["churn-rate"], d.dataset.churn_rate]);
  check(kpi["last-run"] === last.finished_at, "KPI last run = the latest run's finished_at", [kpi["last-run"], last.finished_at]);
  check(kpi.status === last.status, "KPI status = the latest run's status", [kpi.status, last.status]);
  check(kpi["best-model"] === d.best_model.name, "KPI best model = details.best_model.name", [kpi["best-model"], d.best_model.name]);
  const shown = await page.evaluate(() => ({
    customers: document.getElementById("kpi-customers").textContent,
    rate: document.getElementById("kpi-churn-rate").textContent,
  }));
  check(shown.customers.replace(/,/g, "") === String(d.dataset.rows), "KPI customers text", shown.customers);
  check(shown.rate === (d.dataset.churn_rate * 100).toFixed(1) + "%", "KPI churn rate text", shown.rate);

  // Models table, history, figures, summary
  const { body: metrics } = await getJSON(base + "/api/metrics");
  const names = Object.keys(metrics.models);
  const table = await page.evaluate(() => {
    const t = document.getElementById("models-table");
    return { head: [...t.tHead.rows[0].cells].map((c) => c.textContent.trim()), rows: t.tBodies[0].rows.length,
      auc: [...t.tBodies[0].rows].find((r) => r.cells[0].textContent.startsWith("ROC AUC"))?.cells.length };
  });
  check(names.every((n) => table.head.includes(n)), "models table has a column per model", table.head);
  check(table.rows >= 9 && table.auc === names.length + 1, "models table rows (metrics incl. ROC AUC)", table);
  const hist = await page.evaluate(() => ({
    lines: document.querySelectorAll("#history polyline").length,
    points: document.querySelectorAll("#history circle").length }));
  const { body: runs } = await getJSON(base + "/api/model-runs?limit=40");
  check(hist.lines >= 1 && hist.points === runs.runs.length, "history chart: a line per model, a point per run", [hist, runs.runs.length]);
  const { body: arts } = await getJSON(base + "/api/artifacts");
  const figs = arts.filter((a) => a.kind === "figure" && a.name.endsWith(".png")).length;
  await page.evaluate(async () => {
    for (const img of document.querySelectorAll("#figures img"))
      if (!img.complete) await new Promise((r) => { img.onload = img.onerror = r; });
  });
  const imgs = await page.evaluate(() => [...document.querySelectorAll("#figures img")].map((i) => i.naturalWidth));
  check(figs > 3 && imgs.length === figs, "every listed figure is on the page", [imgs.length, figs]);
  check(imgs.every((w) => w > 0), "every figure image decoded", imgs);
  // The registry: the champion first, with its badge, every version of the first run, the decision
  const { body: reg } = await getJSON(base + "/api/models");
  const shownReg = await page.evaluate(() => ({
    refs: [...document.querySelectorAll("#registry-table tbody tr")].map((r) => r.dataset.ref),
    champion: document.querySelector("#registry-table tbody tr .alias.champion")?.closest("tr")?.dataset.ref,
    decision: document.getElementById("registry-decision").dataset.value }));
  check(shownReg.refs[0] === reg.aliases.champion && shownReg.champion === reg.aliases.champion,
    "registry table: the champion first, with its badge", [shownReg, reg.aliases]);
  check(reg.versions.every((v) => shownReg.refs.includes(v.ref)), "registry table: every version", shownReg.refs);
  check(shownReg.decision === "promoted", "registry: the first run's decision shown", shownReg.decision);
  const sumRows = await page.evaluate(() => document.querySelectorAll("#summary-table tbody tr").length);
  check(sumRows > 10, "data summary table rows", sumRows);

  // Drift table against /api/drift
  const { body: drift } = await getJSON(base + "/api/drift");
  const dt = await page.evaluate(() => [...document.querySelectorAll("#drift-table tbody tr[data-column]")].map((r) => ({
    name: r.dataset.column, psi: Number(r.cells[3].dataset.value), status: r.querySelector(".badge")?.dataset.status,
    spark: r.querySelectorAll(".spark svg circle").length })));
  check(drift.status === "compared" && dt.length === drift.columns.length && dt.length > 10, "drift table: a row per compared column", [dt.length, drift.columns.length]);
  const byName = Object.fromEntries(drift.columns.map((c) => [c.name, c]));
  check(dt.every((r) => byName[r.name] && r.psi === byName[r.name].psi && r.status === byName[r.name].status),
    "drift table: PSI and status = /api/drift", dt.slice(0, 3));
  check(dt[0] && dt[0].name === "Contract" && dt[0].status === "alert" && drift.summary.flagged.join() === "Contract",
    "drift table: Contract flagged, first", dt.slice(0, 2));
  check(dt.every((r) => r.spark === drift.history.filter((h) => h.psi && r.name in h.psi).length),
    "drift sparklines: a point per run of the history", dt.map((r) => r.spark).slice(0, 4));

  // Predict form: change two fields, submit, compare with POST /api/predict
  await page.fill('#predict-form input[name="tenure"]', "3");
  await page.selectOption('#predict-form select[name="Contract"]', "Month-to-month");
  await page.click("#predict-submit");
  await page.waitForSelector("#predict-probability, #predict-error", { timeout: 10_000 });
  const pred = await page.evaluate(() => ({
    p: document.getElementById("predict-probability")?.dataset.value,
    label: document.getElementById("predict-label")?.dataset.value,
    reasons: document.querySelectorAll("#predict-reasons > *").length,
    request: document.getElementById("predict-result").dataset.request,
    error: document.getElementById("predict-error")?.textContent }));
  check(pred.p !== undefined && !pred.error, "predict form answered", pred);
  const rec = JSON.parse(pred.request || "{}");
  check(rec.tenure === 3 && rec.Contract === "Month-to-month", "the form sent the values entered", rec);
  const { status, body: api } = await getJSON(base + "/api/predict", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: pred.request });
  check(status === 200 && Number(pred.p) === api.predictions[0].probability,
    "#predict-probability = POST /api/predict probability", [pred.p, api.predictions?.[0]?.probability]);
  check(pred.label === api.predictions[0].label && pred.reasons === api.predictions[0].reasons.length,
    "label and reasons as the API", [pred.label, pred.reasons]);

  // With cox: the prediction has its remaining months; the retention panel shows /api/retention's list and curve
  const surv = await page.evaluate(() => document.getElementById("predict-survival")?.dataset.months);
  check(api.predictions[0].survival && String(api.predictions[0].survival.months_remaining) === surv,
    "#predict-survival = POST /api/predict survival.months_remaining", [surv, api.predictions[0].survival]);
  const { status: rst, body: ret } = await getJSON(base + "/api/retention?limit=15");
  const panel = await page.evaluate(() => ({
    hidden: document.getElementById("retention").hidden,
    rows: [...document.querySelectorAll("#retention-table tbody tr")].map((r) => r.cells[0].textContent),
    lines: document.querySelectorAll("#retention-curve polyline").length,
    best: document.getElementById("retention-best").dataset.contacts }));
  check(rst === 200 && !panel.hidden && panel.rows.length === 15 && panel.rows[0] === ret.customers[0].id,
    "retention panel lists /api/retention's customers in order", [rst, panel.rows.slice(0, 2)]);
  check(panel.lines === 2 && Number(panel.best) === ret.summary.best.contacts,
    "retention panel: two profit curves and the best budget", panel);
  await page.locator("#retention").screenshot({ path: SHOT.replace(/\.png$/, "-retention.png") });

  // Screenshot (before the refresh check: the page as first loaded + a prediction)
  await page.screenshot({ path: SHOT, fullPage: true });
  check(existsSync(SHOT), "screenshot saved: " + SHOT);

  // Auto-refresh after another ML run
  const before = kpi["last-run"];
  await sleep(1100); // run times have one-second resolution
  const ml = runPipeline("ml", "--no-figures");
  check(ml.code === 0, "second churn ml", ml.err.slice(-300));
  const t1 = Date.now();
  let after = before;
  while (Date.now() - t1 < 12_000 && after === before) {
    await sleep(250);
    after = await page.evaluate(() => document.getElementById("kpi-last-run").dataset.value);
  }
  const { body: d2 } = await getJSON(base + "/api/details");
  check(after !== before && after === d2.last_model_run.finished_at,
    `KPI last run refreshed by itself (${((Date.now() - t1) / 1000).toFixed(1)} s)`, [before, after]);
  // the KPIs are set before the chart's own fetch (/api/model-runs) returns: wait for it
  let hist2 = 0;
  for (const t2 = Date.now(); Date.now() - t2 < 5_000; await sleep(100)) {
    hist2 = await page.evaluate(() => document.querySelectorAll("#history circle").length);
    if (hist2 === hist.points + names.length) break;
  }
  check(hist2 === hist.points + names.length, "history chart gained the new runs", [hist.points, hist2]);

  // At 1280 px nothing overflows horizontally.
  const overflow = await page.evaluate(() => {
    const w = document.documentElement.clientWidth, bad = [];
    for (const el of document.querySelectorAll("main *")) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.right > w + 1 && !el.closest(".scroll")) bad.push(el.tagName + "#" + el.id + "." + el.className);
    }
    return { scroll: document.documentElement.scrollWidth > w, bad: bad.slice(0, 5) };
  });
  check(!overflow.scroll && overflow.bad.length === 0, "no horizontal overflow at 1280 px", overflow);
  check(outside.length === 0, "no request leaves the server", outside.slice(0, 5));
  check(errors.length === 0, "no script errors, no failed requests", errors.slice(0, 5));

  // With a token: the sign-in form once, then the dashboard and its predict form with the cookie.
  const TOKEN = "browser-token-5e1f0a9c3b7d";
  const guarded = await startServer({ CHURN_HTTPD_TOKEN: TOKEN });
  try {
    const p2 = await context.newPage();
    const errs2 = [];
    p2.on("pageerror", (e) => errs2.push(String(e)));
    const first = await p2.goto(guarded.base + "/", { waitUntil: "load" });
    check(first.status() === 401 && await p2.locator("form[action='/login'] input[name='token']").count() === 1,
      "with a token, / is the sign-in form", first.status());
    await p2.fill("input[name='token']", "not-the-token-at-all");
    await p2.click("button[type='submit']");
    check(await p2.locator("#login-error").count() === 1, "a wrong token shows the form again with an error");
    await p2.fill("input[name='token']", TOKEN);
    await p2.click("button[type='submit']");
    await p2.waitForFunction(() => document.body.dataset.loaded, null, { timeout: 20_000 });
    check(p2.url() === guarded.base + "/", "signed in: the dashboard loads", p2.url());
    const cookies = await context.cookies(guarded.base);
    const c = cookies.find((k) => k.name === "churn_token");
    check(c && c.httpOnly && c.sameSite === "Strict", "the cookie is HttpOnly and SameSite=Strict", c);
    check(await p2.evaluate(() => document.cookie.includes("churn_token")) === false, "scripts cannot read the token");
    await p2.fill('#predict-form input[name="tenure"]', "5");
    await p2.click("#predict-submit");
    await p2.waitForSelector("#predict-probability, #predict-error", { timeout: 10_000 });
    const ok = await p2.evaluate(() => !!document.getElementById("predict-probability") && !document.getElementById("predict-error"));
    check(ok, "the predict form works with the cookie");
    const anon = await fetch(guarded.base + "/api/details");
    check(anon.status === 401, "the same endpoint without the cookie is 401", anon.status);
    check(errs2.length === 0, "no script errors with the token", errs2.slice(0, 5));
    await p2.close();
  } finally {
    guarded.proc.kill("SIGTERM");
  }

  // Another business's file: the identifiers and the leaking column are named in a "Check the data" card.
  check(await page.locator("#data-warnings").count() === 0, "no data warnings on clean data");
  // The Contract mix moved on purpose (above): the banner shows the latest runs' alerts, column_psi among them.
  {
    const { body: al0 } = await getJSON(base + "/api/alerts");
    const { body: d0 } = await getJSON(base + "/api/details");
    const latest0 = al0.alerts.filter((a) => a.run_id === d0.last_data_run.run_id || a.run_id === d0.last_model_run.run_id)
      .map((a) => a.rule);
    let shown0 = [];
    for (const t0 = Date.now(); Date.now() - t0 < 12_000; await sleep(250)) {
      shown0 = await page.evaluate(() => [...document.querySelectorAll("#alerts-banner li")].map((li) => li.dataset.rule));
      if (JSON.stringify(shown0) === JSON.stringify(latest0)) break;
    }
    check(latest0.includes("column_psi") && JSON.stringify(shown0) === JSON.stringify(latest0),
      "a moved Contract mix: the alerts banner shows column_psi with the latest runs' alerts", [shown0, latest0]);
    check(/Contract/.test(await page.locator("#alerts-banner").textContent()), "it names Contract");
  }
  const bank = join(tmp, "bank.csv");
  const gen = spawnSync("/usr/bin/python3", [join(dirname(fileURLToPath(import.meta.url)), "gen-shapes.py"), "bank", "1500"],
    { encoding: "utf8" });
  writeFileSync(bank, gen.stdout || "");
  const r3 = churn("run", "--source", bank, "--target", "Exited", "--workdir", wd, "--quiet", "--no-figures");
  check(r3.code === 0, "churn run on a bank's file", r3.err.slice(-300));
  let warned = 0;
  for (const t3 = Date.now(); Date.now() - t3 < 15_000 && warned === 0; await sleep(250))
    warned = await page.evaluate(() => document.querySelectorAll("#data-warnings li").length);
  const { body: m3 } = await getJSON(base + "/api/metrics");
  check(warned === 3 && warned === m3.notes.length, "the data warnings card lists metrics.json's notes", [warned, m3.notes]);
  const text = await page.evaluate(() => document.getElementById("data-warnings")?.textContent || "");
  check(/RowNumber/.test(text) && /CustomerId/.test(text) && /Complain.*leaks the target/.test(text),
    "it names the identifiers and the leak", text.slice(0, 300));
  await page.locator("#warnings").screenshot({ path: SHOT.replace(/\.png$/, "-warnings.png") });

  // The bank's columns are not the synthetic file's: the data run fired schema_change, shown in the banner.
  const { body: al } = await getJSON(base + "/api/alerts");
  const { body: d3 } = await getJSON(base + "/api/details");
  const latest = al.alerts.filter((a) => a.run_id === d3.last_data_run.run_id || a.run_id === d3.last_model_run.run_id);
  const rules = await page.evaluate(() => [...document.querySelectorAll("#alerts-banner li")].map((li) => li.dataset.rule));
  check(latest.length > 0 && JSON.stringify(rules) === JSON.stringify(latest.map((a) => a.rule)),
    "the alerts banner lists the latest runs' alerts of /api/alerts", [rules, latest.map((a) => a.rule)]);
  check(rules.includes("schema_change") && /added RowNumber.*removed customerID/.test(await page.locator("#alerts-banner").textContent()),
    "a schema change names the columns", rules);
  check(await page.locator("#alerts-banner.sev-alert").count() === 1, "an alert (not a warning) colours it red");
  await page.locator("#alerts").screenshot({ path: SHOT.replace(/\.png$/, "-alerts.png") });
} catch (e) {
  check(false, "browser test ran", String(e && e.stack || e));
} finally {
  if (context) await context.close().catch(() => {});
  if (server) server.proc.kill("SIGTERM");
  rmSync(tmp, { recursive: true, force: true });
}
console.log(`# httpd-browser: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
