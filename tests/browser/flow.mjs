// flow.mjs — the web dashboard in a real browser: Debian's Chromium driven by playwright-core.
//
//   DEPOT_BIN=build/depot node tests/browser/flow.mjs [ARTIFACT_DIR]
//
// Starts its own depot (fresh data folder, an ephemeral port) and a headless Chromium with a new,
// empty profile, then walks what a newcomer does: register → log in → create a token → publish
// (through the API) → find it by search with the keyboard only → open the package page → README
// and chart visible → copy the install line → yank from the UI → logged out, no owner actions;
// and the package page at phone width. Screenshots of each step go to ARTIFACT_DIR (default
// build/test-artifacts/browser). Prints one line per step and `flow: N passed, N failed`.
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
const bin = process.env.DEPOT_BIN || join(root, "build", "depot");
const artifacts = resolve(process.argv[2] || join(root, "build", "test-artifacts", "browser"));
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
mkdirSync(artifacts, { recursive: true });

// ---- a depot of our own ----

function startDepot(dataDir) {
  return new Promise((ok, fail) => {
    const p = spawn(bin, ["serve", "--listen", "127.0.0.1:0", "--data", dataDir, "--argon2-ops", "1",
      "--argon2-mem", "8192", "--rate-limit", "off", "--log-format", "text"], { stdio: ["ignore", "ignore", "pipe"] });
    let seen = "";
    const timer = setTimeout(() => fail(new Error("depot did not start:\n" + seen)), 15000);
    p.stderr.setEncoding("utf8");
    p.stderr.on("data", (chunk) => {
      seen += chunk;
      const m = /listening .*addr="?([0-9.]+:[0-9]+)/.exec(seen);
      if (m && !p.base) {
        p.base = "http://" + m[1];
        clearTimeout(timer);
        ok(p);
      }
      if (seen.length > 100000) seen = seen.slice(-50000);
    });
    p.on("exit", (code) => { clearTimeout(timer); if (!p.base) fail(new Error(`depot exited ${code}:\n${seen}`)); });
  });
}

// ---- a .tar.gz, written by hand (ustar headers), so the test needs nothing else ----

function tarGz(files) {
  const blocks = [];
  for (const [name, text] of Object.entries(files)) {
    const data = Buffer.from(text);
    const h = Buffer.alloc(512);
    h.write(name, 0, 100);
    h.write("0000644\0", 100);
    h.write("0000000\0", 108);
    h.write("0000000\0", 116);
    h.write(data.length.toString(8).padStart(11, "0") + "\0", 124);
    h.write(Math.floor(Date.now() / 1000).toString(8).padStart(11, "0") + "\0", 136);
    h.write("        ", 148);
    h.write("0", 156);
    h.write("ustar\0", 257);
    h.write("00", 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

// ---- steps ----

const results = [];
async function step(name, fn) {
  try {
    await fn();
    results.push([name, true]);
    console.log(`ok   ${name}`);
  } catch (e) {
    results.push([name, false]);
    console.log(`FAIL ${name}\n     ${String(e && e.stack || e).split("\n").slice(0, 6).join("\n     ")}`);
  }
}
function check(cond, what) {
  if (!cond) throw new Error(what);
}

const dataDir = mkdtempSync(join(tmpdir(), "depot-browser-"));
const profile = mkdtempSync(join(tmpdir(), "depot-chromium-"));
let depot, context;
try {
  depot = await startDepot(join(dataDir, "data"));
  const base = depot.base;
  context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run", "--disable-quic"],
    viewport: { width: 1280, height: 900 },
  });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(10000);
  const problems = [];
  page.on("console", (m) => { if (m.type() === "error") problems.push("console: " + m.text()); });
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  const shot = (n) => page.screenshot({ path: join(artifacts, n + ".png"), fullPage: true });
  let token = null;
  const pkg = "web-demo";

  await step("register", async () => {
    await page.goto(base + "/register");
    await page.getByLabel("Username").fill("alice");
    await page.getByLabel("Email").fill("alice@example.com");
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL(/\/account\?done=registered$/);
    check(await page.getByRole("heading", { name: "Your account" }).isVisible(), "no account page");
    await shot("01-registered");
  });

  await step("log out, then log in", async () => {
    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL(base + "/?done=logout");
    check(await page.getByRole("link", { name: "Log in", exact: true }).isVisible(), "still logged in");
    await page.getByRole("link", { name: "Log in", exact: true }).click();
    await page.getByLabel("Username or email").fill("alice");
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Log in", exact: true }).click();
    await page.waitForURL(/\/account$/);
  });

  await step("create a token (the secret shown once)", async () => {
    await page.getByLabel("Name", { exact: true }).fill("ci");
    await page.getByLabel("publish (every ecosystem)").check();
    await page.getByRole("button", { name: "Create token" }).click();
    token = (await page.locator("#new-token").textContent()).trim();
    check(/^dpt_[A-Za-z0-9_-]{43}$/.test(token), "token looks wrong: " + token);
    await shot("02-token");
    await page.goto(base + "/account");
    check(!(await page.content()).includes(token), "the secret is shown again");
  });

  await step("publish through the API", async () => {
    const readme = "# Web demo\n\nA package made by the **browser test**.\n\n```sh\ndepot install web-demo\n```\n";
    const tgz = tarGz({
      "depot.json": JSON.stringify({ name: pkg, version: "1.0.0", description: "Shown in a browser",
        license: "MIT", readme: "README.md", keywords: ["demo"] }),
      "README.md": readme,
    });
    const fd = new FormData();
    fd.append("tarball", new Blob([tgz], { type: "application/gzip" }), "web-demo.tar.gz");
    const r = await fetch(base + "/api/v1/packages", { method: "POST", body: fd,
      headers: { Authorization: "Bearer " + token } });
    check(r.status === 201, "publish answered " + r.status + " " + await r.text());
    for (let i = 0; i < 3; i++)
      await (await fetch(base + `/api/v1/packages/${pkg}/versions/1.0.0/download`)).arrayBuffer();
  });

  await step("find it by search with the keyboard only", async () => {
    await page.goto(base + "/");
    await page.keyboard.press("/");
    check(await page.evaluate(() => document.activeElement.id) === "top-q", "'/' does not focus the search box");
    await page.keyboard.type(pkg);
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/search\?q=web-demo/);
    check(await page.locator(".pkgs a.name", { hasText: pkg }).isVisible(), "not in the results");
    let found = false;
    for (let i = 0; i < 40 && !found; i++) {
      await page.keyboard.press("Tab");
      found = await page.evaluate((n) => document.activeElement.tagName === "A" &&
        document.activeElement.textContent === n, pkg);
    }
    check(found, "Tab never reaches the result");
    await shot("03-search");
    await page.keyboard.press("Enter");
    await page.waitForURL(new RegExp(`/packages/native/${pkg}$`));
  });

  await step("package page: README and chart visible", async () => {
    check(await page.locator(".readme h2", { hasText: "Web demo" }).isVisible(), "README heading not visible");
    check(await page.locator(".readme strong", { hasText: "browser test" }).isVisible(), "README text not visible");
    const chart = page.locator("svg.chart");
    check(await chart.isVisible(), "chart not visible");
    const box = await chart.boundingBox();
    check(box && box.width > 200 && box.height > 80, "chart too small: " + JSON.stringify(box));
    await shot("04-package");
  });

  await step("copy the install snippet", async () => {
    const button = page.locator("button[data-copy]").first();
    check(await button.isVisible(), "no copy button");
    const want = (await page.locator("#snippet-0").textContent()).trim();
    await button.click();
    await page.waitForFunction(() => document.querySelector("button[data-copy]").textContent.startsWith("Copied"));
    const got = (await page.evaluate(() => navigator.clipboard.readText())).trim();
    check(got === want, `clipboard has ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    check(got.startsWith("depot install web-demo@^1.0.0"), "unexpected snippet " + got);
  });

  await step("yank from the UI (with confirmation)", async () => {
    await page.locator("a.button", { hasText: "Yank" }).first().click();
    await page.waitForURL(/\/confirm\?action=yank&version=1\.0\.0/);
    check(await page.getByRole("heading", { name: "Yank web-demo 1.0.0?" }).isVisible(), "no confirmation");
    await shot("05-confirm-yank");
    await page.getByRole("button", { name: "Yank web-demo 1.0.0" }).click();
    await page.waitForURL(/\?done=yank$/);
    check(await page.getByRole("status").filter({ hasText: "yanked" }).isVisible(), "no notice");
    check(await page.locator(".badge", { hasText: "yanked" }).first().isVisible(), "no yanked badge");
    const v = await (await fetch(base + `/api/v1/packages/${pkg}/versions/1.0.0`)).json();
    check(v.yanked === true, "the API does not say yanked");
    await shot("06-yanked");
  });

  await step("logged out: no owner actions", async () => {
    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL(base + "/?done=logout");
    await page.goto(base + `/packages/native/${pkg}`);
    check(await page.locator("#h-manage").count() === 0, "the Manage section is shown");
    check(await page.locator('a[href*="/confirm?"]').count() === 0, "owner action links are shown");
    await page.goto(base + `/packages/native/${pkg}/confirm?action=unyank&version=1.0.0`);
    check(/\/login\?next=/.test(page.url()), "the confirmation page is open to anyone: " + page.url());
    await shot("07-logged-out");
  });

  await step("phone width: nothing wider than the screen", async () => {
    await page.setViewportSize({ width: 375, height: 812 });
    for (const path of ["/", `/packages/native/${pkg}`, "/search?q=demo", "/login"]) {
      await page.goto(base + path);
      const w = await page.evaluate(() => document.documentElement.scrollWidth);
      check(w <= 376, `${path} is ${w}px wide at 375px`);
    }
    await page.goto(base + `/packages/native/${pkg}`);
    await shot("08-phone-package");
  });

  await step("no script errors or CSP violations", async () => {
    check(problems.length === 0, problems.join("\n"));
  });
} catch (e) {
  results.push(["set-up", false]);
  console.log("FAIL set-up\n     " + String(e && e.stack || e));
} finally {
  if (context) await context.close().catch(() => {});
  if (depot) depot.kill("SIGTERM");
  rmSync(profile, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
}
const passed = results.filter((r) => r[1]).length;
console.log(`flow: ${passed} passed, ${results.length - passed} failed`);
process.exit(passed === results.length ? 0 : 1);
