// The admin dashboard in a real browser: starts kerberusd on ephemeral
// ports, opens the dashboard in Debian's headless Chromium (driven by
// playwright-core) and checks what an operator would look at: every plugin
// listed, a failed one shown as failed with its reason, counters that move
// under traffic, a page that survives the daemon going away, and no console
// errors or failed requests along the way. Saves a screenshot at 1280x900.
//
//   node dashboard.test.mjs KERBERUSD PLUGIN_DIR... [--screenshot FILE]
//
// The screenshot goes to ./dashboard.png unless --screenshot says otherwise.
// npm dependencies are installed next to this file (node_modules/, ignored
// by git) on the first run: no browser is downloaded, only playwright-core.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.KERBERUS_CHROMIUM || "/usr/bin/chromium";
const DEADLINE_MS = 150_000;  // well inside CTest's timeout, so cleanup still runs

// --- Arguments -----------------------------------------------------------------

const args = process.argv.slice(2);
let screenshot = path.resolve("dashboard.png");
const shot = args.indexOf("--screenshot");
if (shot >= 0) {
  screenshot = path.resolve(args[shot + 1]);
  args.splice(shot, 2);
}
const [kerberusd, ...pluginDirs] = args;
if (!kerberusd || pluginDirs.length === 0) {
  console.error("usage: dashboard.test.mjs KERBERUSD PLUGIN_DIR... [--screenshot FILE]");
  process.exit(64);
}

// --- Cleanup that runs however the test ends -------------------------------------

const daemons = new Set();
const scratch = [];
function killDaemonsNow() {
  for (const child of daemons) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}
process.on("exit", () => {
  killDaemonsNow();
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    console.error(`dashboard test: ${signal}, stopping`);
    process.exit(1);  // the exit handler kills the daemons
  });
}
setTimeout(() => {
  console.error(`dashboard test: not finished after ${DEADLINE_MS / 1000} s`);
  process.exit(1);
}, DEADLINE_MS).unref();

// --- Dependencies --------------------------------------------------------------------

function ensureDependencies() {
  const wanted = JSON.parse(readFileSync(path.join(HERE, "package.json"), "utf8")).dependencies["playwright-core"];
  const installed = path.join(HERE, "node_modules", "playwright-core", "package.json");
  if (existsSync(installed) && JSON.parse(readFileSync(installed, "utf8")).version === wanted) return;
  console.log(`installing playwright-core ${wanted} into ${path.join(HERE, "node_modules")}`);
  const npm = spawnSync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd: HERE, stdio: "inherit", timeout: 180_000,
    env: { ...process.env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: "1" },
  });
  if (npm.status !== 0) throw new Error(`npm ci failed (${npm.error ? npm.error.message : "exit " + npm.status})`);
}

// --- The daemon ------------------------------------------------------------------------

// Starts kerberusd and resolves once it logs both of its URLs. Fixed ports
// (from an earlier run) restart a daemon where the page expects it.
function startDaemon(work, ports = { main: 0, admin: 0 }) {
  const config = path.join(work, "kerberus.yaml");
  writeFileSync(config, [
    `server: { listen: "127.0.0.1:${ports.main}" }`,
    `admin: { listen: "127.0.0.1:${ports.admin}" }`,
    "auth: { dangerouslyDisableDefaultAuthPolicy: true }",
    "plugin_directories:",
    ...pluginDirs.map(d => "  - " + JSON.stringify(path.resolve(d))),
    "",
  ].join("\n"));
  // setpriv (util-linux) has the kernel kill the daemon if this process dies
  // before it can, even by SIGKILL.
  const command = existsSync("/usr/bin/setpriv")
    ? ["/usr/bin/setpriv", "--pdeathsig", "KILL", kerberusd, "--config", config]
    : [kerberusd, "--config", config];
  const child = spawn(command[0], command.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  daemons.add(child);
  let log = "";
  const exited = new Promise(resolve => child.once("exit", (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("kerberusd did not start within 20 s; log:\n" + log)), 20_000);
    const onData = chunk => {
      log += chunk;
      const main = /serving on (http:\/\/127\.0\.0\.1:(\d+))/.exec(log);
      const admin = /admin surface on (http:\/\/127\.0\.0\.1:(\d+))/.exec(log);
      if (main && admin) {
        clearTimeout(timer);
        resolve({
          child, exited, log: () => log,
          publicUrl: main[1], adminUrl: admin[1], ports: { main: +main[2], admin: +admin[2] },
        });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`kerberusd exited (${code ?? signal}) before serving; log:\n${log}`));
    });
  });
}

async function stopDaemon(daemon) {
  if (daemon.child.exitCode !== null || daemon.child.signalCode !== null) return;
  daemon.child.kill("SIGTERM");
  const timer = setTimeout(() => daemon.child.kill("SIGKILL"), 10_000);
  await daemon.exited;
  clearTimeout(timer);
}

// --- Traffic ---------------------------------------------------------------------------

async function get(url) {
  const response = await fetch(url);
  await response.arrayBuffer();
  return response.status;
}

// A steady mix for as long as the screenshot needs it: most requests
// succeed, one in ten is a 503, a few take a while. Bounded in time.
function backgroundTraffic(publicUrl) {
  let running = true;
  const until = Date.now() + 60_000;
  const done = (async () => {
    for (let i = 0; running && Date.now() < until; i++) {
      const paths = ["/api/hello/", "/api/echo/anything", i % 10 === 0 ? "/api/echo/status/503" : "/api/echo/status/200"];
      if (i % 5 === 0) paths.push("/api/echo/delay?ms=30");
      await Promise.all(paths.map(p => get(publicUrl + p).catch(() => 0)));
      await new Promise(r => setTimeout(r, 40));
    }
  })();
  return async () => { running = false; await done; };
}

// --- Checks ------------------------------------------------------------------------------

let passed = 0, failed = 0;
async function check(name, fn) {
  const started = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok     ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    failed++;
    console.log(`FAILED ${name} (${Date.now() - started} ms)\n       ${String(error.stack || error).split("\n").join("\n       ")}`);
  }
}
function expect(condition, message) {
  if (!condition) throw new Error(message);
}

async function main() {
  const started = Date.now();
  ensureDependencies();
  const { chromium } = await import("playwright-core");
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (.ci/install-deps does)`);

  const work = mkdtempSync(path.join(tmpdir(), "kerberus-dashboard-"));
  scratch.push(work);
  let daemon = await startDaemon(work);
  console.log(`kerberusd serving on ${daemon.publicUrl}, admin surface on ${daemon.adminUrl}`);

  const profile = mkdtempSync(path.join(tmpdir(), "kerberus-chromium-"));
  scratch.push(profile);
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run"],
    viewport: { width: 1280, height: 900 },
    colorScheme: "light",
    locale: "en-GB",
    timezoneId: "UTC",
  });
  let stopTraffic = async () => {};
  try {
    const page = browser.pages()[0] || await browser.newPage();
    page.setDefaultTimeout(10_000);
    const problems = [];
    let watching = true;
    page.on("console", m => { if (watching && m.type() === "error") problems.push(`console error: ${m.text()}`); });
    page.on("pageerror", e => problems.push(`uncaught: ${e.message}`));
    page.on("requestfailed", r => { if (watching) problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`); });
    page.on("response", r => { if (watching && r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`); });

    const row = id => page.locator(`#plugins tr[data-plugin="${id}"]`);
    const helloName = page.locator('#routes tr[data-plugin="hello"][data-pattern="/:name"]');
    const cellText = async (locator, field) => (await locator.locator(`[data-field="${field}"]`).textContent()).trim();

    await check("the dashboard loads and lists the plugins", async () => {
      const response = await page.goto(daemon.adminUrl + "/");
      expect(response.ok(), `GET / answered ${response.status()}`);
      await row("hello").waitFor();
      expect((await page.title()) === "kerberusd", `title is "${await page.title()}"`);
    });

    await check("hello, echo and proxy are shown running", async () => {
      for (const id of ["hello", "echo", "proxy"]) {
        expect(await row(id).count() === 1, `no row for ${id}`);
        const state = await cellText(row(id), "state");
        expect(state === "running", `${id} shows "${state}", not running`);
      }
    });

    await check("the plugin whose init fails is shown failed, with its reason", async () => {
      const fails = row("init-fails");
      expect(await fails.getAttribute("data-state") === "failed", "init-fails is not in state failed");
      expect(await cellText(fails, "state") === "failed", "init-fails' state does not read failed");
      expect((await fails.getAttribute("class")).includes("trouble"), "init-fails' row is not marked as in trouble");
      const error = await page.locator('#plugins tr[data-error-for="init-fails"]').textContent();
      expect(error.includes("database unreachable"), `its error reads "${error}"`);
      const tile = await page.locator("#t-plugins-note").textContent();
      expect(tile.includes("1 failed"), `the plugins summary reads "${tile}"`);
      const events = await page.locator("#events").textContent();
      expect(events.includes("database unreachable"), "the failure is not among the recent events");
    });

    await check("GET routes without parameters open the public URL", async () => {
      const link = page.locator('#routes tr[data-plugin="hello"][data-pattern="/"] a');
      expect(await link.getAttribute("href") === daemon.publicUrl + "/api/hello/", "hello's / route is not a link to it");
      expect(await helloName.locator("a").count() === 0, "a route with a parameter is a link");
    });

    await check("50 requests to /api/hello/x move the route's counters", async () => {
      // After the second reading every rate is a number, so the one measured
      // next has the traffic in it.
      await page.waitForFunction(() => document.querySelector('#routes tr[data-plugin="hello"][data-pattern="/:name"] [data-field="rate"]')?.textContent === "0");
      const before = Number((await cellText(helloName, "requests")).replace(/,/g, ""));
      for (let i = 0; i < 50; i++) {
        const status = await get(daemon.publicUrl + "/api/hello/x");
        expect(status === 200, `GET /api/hello/x answered ${status}`);
      }
      await page.waitForFunction(n => {
        const tr = document.querySelector('#routes tr[data-plugin="hello"][data-pattern="/:name"]');
        const requests = Number(tr.querySelector('[data-field="requests"]').textContent.replace(/,/g, ""));
        return requests >= n && Number(tr.querySelector('[data-field="rate"]').textContent) > 0;
      }, before + 50);
      const rate = await cellText(helloName, "rate");
      const total = await page.locator("#t-rate").textContent();
      console.log(`       hello /:name: ${await cellText(helloName, "requests")} requests, ${rate} req/s; all routes ${total} req/s`);
      expect(Number(total) > 0, `the summary rate reads "${total}"`);
    });

    stopTraffic = backgroundTraffic(daemon.publicUrl);

    await check("5xx answers show as an error share", async () => {
      const cell = '#routes tr[data-plugin="echo"][data-pattern="/status/:code"] [data-field="errors"]';
      const status = page.locator(cell);
      // Each refresh rebuilds the rows: look the cell up anew every time.
      await page.waitForFunction(selector => {
        const text = document.querySelector(selector)?.textContent || "";
        return text.endsWith("%") && text !== "0 %";
      }, cell);
      console.log(`       echo /status/:code: ${await status.textContent()} 5xx`);
    });

    await check(`a screenshot at 1280x900 (${screenshot})`, async () => {
      // Two readings with the mix in them: every rate describes it.
      await page.waitForTimeout(4500);
      await page.screenshot({ path: screenshot });
    });
    await stopTraffic();

    await check("no console errors and no failed requests", async () => {
      expect(problems.length === 0, problems.join("\n"));
    });

    // The browser itself logs refused connections: not the page's fault.
    watching = false;
    await check("the page says when the daemon is unreachable, and recovers", async () => {
      const ports = daemon.ports;
      await stopDaemon(daemon);
      daemons.delete(daemon.child);
      await page.locator("#status", { hasText: "unreachable" }).waitFor();
      expect(await page.locator("body.stale").count() === 1, "the stale data is not marked as such");
      expect(await row("hello").count() === 1, "the last data is no longer shown");
      // The same ports, where the page looks; another process may hold one
      // for a moment.
      for (let attempt = 1; ; attempt++) {
        try {
          daemon = await startDaemon(work, ports);
          break;
        } catch (error) {
          if (attempt === 5) throw error;
          await new Promise(r => setTimeout(r, 500));
        }
      }
      await page.locator("#status", { hasText: /^ready$/ }).waitFor();
      expect(await page.locator("body.stale").count() === 0, "still marked stale after the daemon came back");
      expect(problems.length === 0, problems.join("\n"));
    });
  } finally {
    await stopTraffic();
    await browser.close();
    await stopDaemon(daemon);
  }
  console.log(`\n${passed} passed, ${failed} failed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return failed === 0 ? 0 : 1;
}

main().then(code => process.exit(code), error => {
  console.error(`dashboard test: ${error.stack || error}`);
  process.exit(1);
});
