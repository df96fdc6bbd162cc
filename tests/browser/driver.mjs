// A small headless-Chromium driver for the Python browser tests (one browser per test module).
// Uses playwright-core with the system Chromium (/usr/bin/chromium or $VTUBER_CHROMIUM); nothing is
// downloaded. Protocol: one JSON request per stdin line, one JSON reply per stdout line:
//   {"id": 1, "cmd": "goto", "url": "..."}                       -> {"id": 1, "ok": true, "result": null}
//   {"id": 2, "cmd": "eval", "js": "return 1 + 1"}                -> result 2 (async function body)
//   {"id": 3, "cmd": "wait", "js": "return ready()", "timeout": 20000}  (polls every 50 ms until the
//                                              awaited result is truthy; returns it, or fails on timeout)
//   {"id": 4, "cmd": "screenshot", "path": "x.png", "omitBackground": true}
//   {"id": 5, "cmd": "drain"}   -> {"errors": [...page errors...], "console": [...]}
//   {"id": 6, "cmd": "viewport", "width": 640, "height": 480}
import { chromium } from 'playwright-core';
import readline from 'node:readline';

const browser = await chromium.launch({
  executablePath: process.env.VTUBER_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox', '--disable-gpu', '--use-gl=angle', '--use-angle=swiftshader',
    '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist', '--disable-background-networking',
    '--disable-component-update', '--disable-default-apps', '--disable-sync', '--no-first-run',
    '--disable-dev-shm-usage',
  ],
});
const context = await browser.newContext({ viewport: { width: 640, height: 480 }, deviceScaleFactor: 1 });
const page = await context.newPage();
let errors = [];
let logs = [];
page.on('pageerror', (e) => errors.push(String(e && e.stack || e)));
page.on('console', (m) => { logs.push(`${m.type()}: ${m.text()}`); if (logs.length > 200) logs.shift(); });

// `js` is the body of an async function, so it evaluates to a Promise. page.waitForFunction does
// not await its predicate: a Promise is truthy, so it would return at once (the condition never
// waited for). Poll from here instead, awaiting each evaluation; a navigation in between (the
// page's context destroyed) just means "not yet".
async function waitFor(js, timeout) {
  const deadline = Date.now() + timeout;
  let last = null;
  for (;;) {
    try {
      const v = await page.evaluate(`(async () => { ${js} })()`);
      if (v) return v;
      last = v;
    } catch (e) {
      const msg = String(e && e.message || e);
      if (!/context was destroyed|navigat/i.test(msg)) throw e;
      last = msg;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for: ${js} (last: ${JSON.stringify(last)})`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function handle(req) {
  switch (req.cmd) {
    case 'goto':
      await page.goto(req.url, { waitUntil: 'load', timeout: req.timeout || 30000 });
      return null;
    case 'eval':
      return await page.evaluate(`(async () => { ${req.js} })()`);
    case 'wait':
      return await waitFor(req.js, req.timeout || 30000);
    case 'screenshot':
      await page.screenshot({ path: req.path, omitBackground: !!req.omitBackground });
      return req.path;
    case 'viewport':
      await page.setViewportSize({ width: req.width, height: req.height });
      return null;
    case 'drain': {
      const r = { errors, console: logs };
      errors = [];
      logs = [];
      return r;
    }
    default:
      throw new Error(`unknown command ${req.cmd}`);
  }
}

const rl = readline.createInterface({ input: process.stdin });
process.stdout.write(JSON.stringify({ id: 0, ok: true, result: browser.version() }) + '\n');
for await (const line of rl) {
  if (!line.trim()) continue;
  let req;
  try { req = JSON.parse(line); } catch (e) { continue; }
  try {
    const result = await handle(req);
    process.stdout.write(JSON.stringify({ id: req.id, ok: true, result: result === undefined ? null : result }) + '\n');
  } catch (e) {
    process.stdout.write(JSON.stringify({ id: req.id, ok: false, error: String(e && e.message || e) }) + '\n');
  }
}
await browser.close();
