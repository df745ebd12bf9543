// The live status page (GET /ui, and GET /status for a client that prefers HTML): what it is
// served as and with (type, CSP by hash, no framing, no caching), the access rules /status
// has (foreign Origin and Host refused, API keys with the Basic challenge a browser answers,
// the key never logged), and the page in a real browser: Debian's headless Chromium renders
// the models the stand-in has loaded through keepwarm (a DOM row each, with its state, and a
// screenshot in build/), and renders every /status field, hostile texts as text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFake, startKeepwarm, FakeControl, stopAll, until } from './harness.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,' +
  'image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7';
const KEY = 'sk-status-page-key-1';

let fake, ctl, kw, kwKeys;
const procs = [];
before(async () => {
  fake = await startFake();
  procs.push(fake);
  ctl = new FakeControl(fake);
  kw = await startKeepwarm(fake.url, ['--ping-interval', '100ms']);
  procs.push(kw);
  kwKeys = await startKeepwarm(fake.url, ['--api-key', KEY, '--log-level', 'debug']);
  procs.push(kwKeys);
});
after(() => stopAll(procs));

// One request written byte for byte (the test picks Host and Origin); { status, head, body }.
function raw(port, method, target, headers = {}) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => {
      let head = `${method} ${target} HTTP/1.1\r\n`;
      for (const [k, v] of Object.entries(headers)) if (v !== undefined) head += `${k}: ${v}\r\n`;
      s.write(`${head}Connection: close\r\n\r\n`);
    });
    let data = '';
    s.on('data', (d) => { data += d; });
    s.on('close', () => {
      const m = data.match(/^HTTP\/1\.[01] (\d{3})/);
      const i = data.indexOf('\r\n\r\n');
      resolve({ status: m ? Number(m[1]) : 0, head: data.slice(0, i), body: data.slice(i + 4) });
    });
    s.on('error', reject);
  });
}
const header = (r, name) => (r.head.match(new RegExp(`^${name}: (.*)$`, 'mi')) || [])[1];
const sha256 = (s) => 'sha256-' + crypto.createHash('sha256').update(s).digest('base64');
const basic = (user, pass) => 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');

test('GET /ui and GET /status for a browser serve the page; programs keep the JSON', async () => {
  for (const [target, accept] of [['/ui', undefined], ['/ui', '*/*'], ['/ui/', 'application/json'],
    ['/status', BROWSER_ACCEPT], ['/status', 'text/html']]) {
    const r = await fetch(`${kw.url}${target}`, { headers: accept ? { accept } : {} });
    assert.equal(r.status, 200, `${target} ${accept}`);
    assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8', `${target} ${accept}`);
    const html = await r.text();
    assert.match(html, /^<!doctype html>/);
    assert.match(html, /fetch\(location.origin \+ '\/status'/);
  }
  for (const accept of [undefined, '*/*', 'application/json', 'application/json, text/html']) {
    const r = await fetch(`${kw.url}/status`, { headers: accept ? { accept } : {} });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/json', String(accept));
    assert.equal(r.headers.get('vary'), 'Accept', 'a cache keeps the two apart');
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.equal(typeof (await r.json()).upstream, 'object');
  }
  // HEAD: the page's headers and length, no body; other methods: 405.
  const head = await raw(kw.port, 'HEAD', '/ui', { Host: `127.0.0.1:${kw.port}` });
  assert.equal(head.status, 200);
  assert.equal(header(head, 'content-type'), 'text/html; charset=utf-8');
  assert.ok(Number(header(head, 'content-length')) > 1000);
  assert.equal(head.body, '');
  const headStatus = await raw(kw.port, 'HEAD', '/status', { Host: `127.0.0.1:${kw.port}`, Accept: BROWSER_ACCEPT });
  assert.equal(header(headStatus, 'content-type'), 'text/html; charset=utf-8');
  assert.equal(header(headStatus, 'content-length'), header(head, 'content-length'));
  assert.equal((await fetch(`${kw.url}/ui`, { method: 'POST', body: '{}' })).status, 405);
  const ownAnswers = await fetch(`${kw.url}/metrics`).then((r) => r.text());
  assert.match(ownAnswers, /keepwarm_requests_total\{route="own",code="200"\} \d+/);
});

test('the page goes out with a strict CSP that allows exactly its inline style and script', async () => {
  const r = await fetch(`${kw.url}/ui`);
  const html = await r.text();
  const csp = r.headers.get('content-security-policy');
  const style = html.match(/<style>([\s\S]*?)<\/style>/)[1];
  const script = html.match(/<script>([\s\S]*?)<\/script>/)[1];
  // Whoever edits the page's style or script sets these in proxy/control/statuspage.c.
  assert.ok(csp.includes(`style-src '${sha256(style)}'`), `STYLE_SHA256 should be "${sha256(style)}"`);
  assert.ok(csp.includes(`script-src '${sha256(script)}'`), `SCRIPT_SHA256 should be "${sha256(script)}"`);
  for (const d of ["default-src 'none'", "connect-src 'self'", "frame-ancestors 'none'",
    "base-uri 'none'", "form-action 'none'"]) assert.ok(csp.includes(d), d);
  assert.doesNotMatch(csp, /unsafe-|\*/);
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(r.headers.get('x-frame-options'), 'DENY');
  assert.equal(r.headers.get('cache-control'), 'no-store');
  assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(r.headers.get('cross-origin-resource-policy'), 'same-origin');
  assert.equal(r.headers.get('vary'), 'Accept');
});

test("a page on another origin cannot read it, nor reach it through DNS rebinding", async () => {
  const host = `127.0.0.1:${kw.port}`;
  for (const [target, accept] of [['/ui', BROWSER_ACCEPT], ['/status', BROWSER_ACCEPT], ['/status', '*/*']]) {
    // fetch() from http://evil.example sends its Origin: refused, and no CORS grant.
    const cross = await raw(kw.port, 'GET', target, { Host: host, Origin: 'http://evil.example', Accept: accept });
    assert.equal(cross.status, 403, `${target} cross-origin`);
    assert.equal(header(cross, 'access-control-allow-origin'), undefined);
    assert.doesNotMatch(cross.body, /<html|"models"/);
    // evil.example re-pointed at 127.0.0.1: the browser says Host: evil.example.
    const rebound = await raw(kw.port, 'GET', target, { Host: `evil.example:${kw.port}`, Accept: accept });
    assert.equal(rebound.status, 403, `${target} rebinding`);
    assert.doesNotMatch(rebound.body, /<html|"models"/);
  }
  // Its own origin (the page's poll) is served.
  const same = await raw(kw.port, 'GET', '/status', { Host: host, Origin: `http://${host}`, Accept: 'application/json' });
  assert.equal(same.status, 200);
});

test('with api_keys: 401 with a Basic challenge for the page, 200 with the key as password, the key never logged', async () => {
  const url = kwKeys.url;
  for (const [target, accept] of [['/ui', undefined], ['/status', BROWSER_ACCEPT]]) {
    const none = await fetch(`${url}${target}`, { headers: accept ? { accept } : {} });
    assert.equal(none.status, 401, `${target} without a key`);
    assert.equal(none.headers.get('www-authenticate'), 'Basic realm="keepwarm", charset="UTF-8"');
    assert.doesNotMatch(await none.text(), /<html/);
    const wrong = await fetch(`${url}${target}`, { headers: { accept, authorization: basic('', 'sk-wrong-key-1') } });
    assert.equal(wrong.status, 401, `${target} with a wrong key`);
    assert.match(wrong.headers.get('www-authenticate'), /^Basic /);
    const ok = await fetch(`${url}${target}`, { headers: { accept, authorization: basic('anyone', KEY) } });
    assert.equal(ok.status, 200, `${target} with the key`);
    assert.match(await ok.text(), /^<!doctype html>/);
  }
  // The page's poll sends what the browser learnt: Basic on /status's JSON.
  const poll = await fetch(`${url}/status`, { headers: { accept: 'application/json', authorization: basic('', KEY) } });
  assert.equal(poll.status, 200);
  assert.equal(typeof (await poll.json()).models, 'object');
  // Programs keep the Bearer challenge (a browser must not pop up a dialog for an API call).
  const api = await fetch(`${url}/status`);
  assert.equal(api.status, 401);
  assert.equal(api.headers.get('www-authenticate'), 'Bearer realm="keepwarm"');
  const chat = await fetch(`${url}/v1/models`, { headers: { accept: BROWSER_ACCEPT } });
  assert.equal(chat.status, 401);
  assert.equal(chat.headers.get('www-authenticate'), 'Bearer realm="keepwarm"');
  // Nothing keepwarm wrote (debug level) holds the key, in clear or as Basic's base64.
  await fetch(`${url}/v1/models`, { headers: { authorization: basic('u', KEY) } });
  assert.ok(kwKeys.output.length > 0);
  assert.equal(kwKeys.output.includes(KEY), false, 'the key is in the log');
  assert.equal(kwKeys.output.includes(basic('anyone', KEY).slice(6)), false, 'the Basic credentials are in the log');
});

// ---- the page in a real browser -------------------------------------------------------------

// Debian's chromium (tests/deps.sh installs it as root), or CHROMIUM_BIN.
const CHROMIUM = process.env.CHROMIUM_BIN ||
  ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));
const NO_CHROMIUM = CHROMIUM ? false
  : 'chromium is not installed (tests/deps.sh installs it when run as root on Debian: apt-get install chromium): the status page was not checked in a browser';
if (NO_CHROMIUM) console.warn(`status-page.test.js: SKIPPING the browser tests: ${NO_CHROMIUM}`);

// Headless Chromium on url: '--dump-dom' prints the DOM after the page's script ran (its
// timers on virtual time), '--screenshot=FILE' writes a PNG.
function chromium(url, mode) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'kw-chromium-'));
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
    '--no-first-run', '--no-default-browser-check', '--disable-extensions',
    `--user-data-dir=${profile}`, '--window-size=1280,640', '--virtual-time-budget=5000',
    '--hide-scrollbars', mode, url];
  return new Promise((resolve, reject) => {
    execFile(CHROMIUM, args, { timeout: 60000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      fs.rmSync(profile, { recursive: true, force: true });
      if (err) reject(new Error(`chromium ${mode}: ${err.message}\n${stderr.slice(-2000)}`));
      else resolve(stdout);
    });
  });
}

// The rows of the models table: [{ model, state, text }] from a dumped DOM.
function modelRows(dom) {
  const body = dom.match(/<tbody id="models">([\s\S]*?)<\/tbody>/)[1];
  return [...body.matchAll(/<tr data-model="([^"]*)" data-state="([^"]*)">([\s\S]*?)<\/tr>/g)]
    .map(([, model, state, cells]) => ({ model, state, text: cells.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ') }));
}

// A PNG's width and height, after checking its signature.
function pngSize(file) {
  const b = fs.readFileSync(file);
  assert.equal(b.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', `${file} is not a PNG`);
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20), bytes: b.length };
}

const chat = (model) => fetch(`${kw.url}/api/chat`, {
  method: 'POST',
  body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], stream: false }),
}).then((r) => { assert.equal(r.status, 200); return r.json(); });

test('in Chromium: a row per model the stand-in has loaded through keepwarm, resident, and a screenshot', { skip: NO_CHROMIUM }, async () => {
  await chat('llama3.2:3b');
  await chat('qwen3:8b');
  await until(async () => {
    const st = await (await fetch(`${kw.url}/status`)).json();
    return st.models.filter((m) => m.loaded).length === 2;
  }, 'both models resident in /status');
  const dom = await chromium(`${kw.url}/ui`, '--dump-dom');
  const rows = modelRows(dom);
  assert.deepEqual(rows.map((r) => [r.model, r.state]).sort(),
    [['llama3.2:3b', 'resident'], ['qwen3:8b', 'resident']], dom.slice(0, 4000));
  for (const r of rows) {
    assert.match(r.text, /resident/);
    assert.match(r.text, /all on GPU/, 'VRAM shown');
    assert.match(r.text, /never/, 'keep_alive forever: never expires');
  }
  assert.match(dom, /2 models, 2 resident/);
  assert.match(dom, /class="b up">up</, 'Ollama is up');
  assert.match(dom, /<div id="err" class="err" hidden=""><\/div>/, 'no error shown');
  fs.mkdirSync(path.join(root, 'build'), { recursive: true });
  const shot = path.join(root, 'build/status-page.png');
  fs.rmSync(shot, { force: true });
  await chromium(`${kw.url}/ui`, `--screenshot=${shot}`);
  const size = pngSize(shot);
  assert.deepEqual([size.width, size.height], [1280, 640]);
  assert.ok(size.bytes > 10000, 'more than a blank page');
});

test('in Chromium, with api_keys: the key given once (Basic) lets the page poll /status', { skip: NO_CHROMIUM }, async () => {
  // The URL's user:password is what a browser's Basic dialog would fill in: Chromium sends it
  // only after the 401 challenge, and the page's fetch reuses it (the same protection space).
  const dom = await chromium(`http://kw:${KEY}@127.0.0.1:${kwKeys.port}/ui`, '--dump-dom');
  assert.match(dom, /<div id="err" class="err" hidden=""><\/div>/, 'the poll was authorized');
  assert.match(dom, /class="b up">up</);
  const without = await chromium(`http://127.0.0.1:${kwKeys.port}/ui`, '--dump-dom');
  assert.doesNotMatch(without, /<tbody id="models">/, 'no page without the key');
});

test('in Chromium: every /status field is rendered, and hostile names and errors stay text', { skip: NO_CHROMIUM }, async () => {
  // The page as keepwarm serves it (its CSP too), from a server whose /status has every field
  // and HTML in each text a client or Ollama controls.
  const page = await fetch(`${kw.url}/ui`);
  const html = await page.text();
  const headers = Object.fromEntries([...page.headers].filter(([k]) => !/^(date|content-length|connection|keep-alive|x-request-id)$/.test(k)));
  const now = Math.floor(Date.now() / 1000);
  const status = {
    upstream: { url: 'http://127.0.0.1:11434', up: false, error: 'refused <img id="pwn1" src=x>', since: now - 90 },
    thrashing: true,
    thrashing_hint: 'pinned models keep evicting each other: too little memory or OLLAMA_MAX_LOADED_MODELS too low',
    keep_alive: '30m', active_requests: 3, version: '9.9.9',
    models: [
      { name: 'llama3.2:3b', pinned: true, requested: false, loaded: true, reloads: 4, pings_ok: 12, pings_failed: 1,
        context_length: 8192, expires_at: new Date(Date.now() + 1800e3).toISOString(), expires_forever: false,
        size: 3221225472, size_vram: 2147483648, fully_on_gpu: false,
        last_ping: { result: 'ok', at: now - 5, duration_ms: 12.4 },
        state: 'resident', in_flight: 2,
        churn: [{ option: 'num_ctx', count: 3, values: ['2048', '8192'], last_at: now - 30, fix: 'pin num_ctx = 8192' }],
        failures: { runner_crash: 2, context_overflow: 1, oom: 0, last_error: 'llama runner process has terminated: <script id="pwn2">x</script>', last_at: now - 100, last_num_ctx: 8192, hint: 'try num_ctx = 4096' },
        reload_causes: { options: 1, evicted: 2, crashed: 1, expired: 0 } },
      { name: '<b id="pwn3">evil</b>', pinned: false, requested: true, loaded: false, reloads: 0, pings_ok: 0, pings_failed: 2,
        context_length: 0, state: 'evicted', in_flight: 0, last_error: '500 <i id="pwn4">no</i>' },
      { name: 'qwen3:8b', pinned: true, requested: false, loaded: false, reloads: 1, pings_ok: 3, pings_failed: 0,
        context_length: 0, state: 'loading', in_flight: 1 },
    ],
    history: [
      { at: Date.now() - 120000, model: 'llama3.2:3b', event: 'evicted', detail: 'gone from /api/ps <u id="pwn5">' },
      { at: Date.now() - 110000, model: 'llama3.2:3b', event: 'repaired', detail: 'loaded again by the warm loop' },
      { at: Date.now() - 30000, model: 'llama3.2:3b', event: 'reload_options', detail: 'num_ctx 2048 -> 8192' },
    ],
  };
  const srv = http.createServer((req, res) => {
    if (req.url === '/status') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(status));
    } else {
      res.writeHead(200, headers);
      res.end(html);
    }
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${srv.address().port}/ui`;
  try {
    const dom = await chromium(url, '--dump-dom');
    assert.doesNotMatch(dom, /<\w+[^<>]*\sid="pwn/, 'an element made from a /status text');
    const rows = modelRows(dom);
    assert.deepEqual(rows.map((r) => [r.model, r.state]),
      [['llama3.2:3b', 'resident'], ['&lt;b id=&quot;pwn3&quot;&gt;evil&lt;/b&gt;', 'evicted'], ['qwen3:8b', 'loading']]);
    const [llama, evil, qwen] = rows.map((r) => r.text);
    assert.match(llama, /pinned/);
    assert.match(llama, /2\.0 GiB of 3\.0 GiB 67% on GPU/);
    assert.match(llama, /8192/);
    assert.match(llama, /in 30 min/);
    assert.match(llama, /options 1, evicted 2, crashed 1/, 'reload causes');
    assert.match(llama, /12 ok, 1 failed last ok, 12 ms, \d+ s ago/);
    assert.match(llama, /num_ctx changed 3 times \(2048, 8192\): pin num_ctx = 8192/, 'churn and its fix');
    assert.match(llama, /try num_ctx = 4096/, "the crash warning's hint");
    assert.match(llama, /runner crash 2, context overflow 1 at num_ctx 8192, last 1\d\d s ago/, 'failures');
    assert.match(llama, /llama runner process has terminated: &lt;script id="pwn2"&gt;x&lt;\/script&gt;/);
    assert.match(evil, /&lt;b id="pwn3"&gt;evil&lt;\/b&gt;/, 'the name, as text');
    assert.match(evil, /500 &lt;i id="pwn4"&gt;no&lt;\/i&gt;/);
    assert.match(qwen, /loading/);
    assert.match(dom, /3 models, 1 resident; 3 requests in flight; keep_alive 30m/);
    assert.match(dom, /class="b down">down</);
    assert.match(dom, /refused &lt;img id="pwn1" src=x&gt;/);
    assert.match(dom, /Thrashing: pinned models keep evicting each other/);
    const events = [...dom.matchAll(/<tr data-event="([^"]*)">/g)].map((m) => m[1]);
    assert.deepEqual(events, ['reload_options', 'repaired', 'evicted'], 'the history, newest first');
    assert.match(dom, /gone from \/api\/ps &lt;u id="pwn5"&gt;/);
    const shot = path.join(root, 'build/status-page-fields.png');
    fs.rmSync(shot, { force: true });
    await chromium(url, `--screenshot=${shot}`);
    assert.ok(pngSize(shot).bytes > 10000);
  } finally {
    srv.close();
  }
});

test('in Chromium: an eviction and the warm loop\'s repair, as the page tells them', { skip: NO_CHROMIUM }, async (t) => {
  const pin = await startKeepwarm(fake.url, ['--ping-interval', '100ms', '--pin', 'llama3.2:3b']);
  procs.push(pin);
  const status = async () => (await fetch(`${pin.url}/status`)).json();
  const llama = (st) => st.models.find((m) => m.name === 'llama3.2:3b');
  await until(async () => llama(await status())?.loaded, 'the pin loaded', 10000);
  if (!Array.isArray((await status()).history)) {
    // The residency data (state, reload causes, history) is another part of /status.
    t.skip("this keepwarm's /status has no history: the page cannot show what evicted a model");
    return;
  }
  await ctl.post('evict', { model: 'llama3.2:3b' });
  await until(async () => {
    const st = await status();
    return llama(st).state === 'resident' && llama(st).reload_causes?.evicted >= 1 &&
      st.history.some((e) => e.event === 'repaired');
  }, 'the eviction seen and repaired', 10000);
  const dom = await chromium(`${pin.url}/ui`, '--dump-dom');
  const row = modelRows(dom).find((r) => r.model === 'llama3.2:3b');
  assert.equal(row.state, 'resident', dom.slice(0, 4000));
  assert.match(row.text, /evicted 1/, 'the reload and its cause');
  const events = [...dom.matchAll(/<tr data-event="([^"]*)">/g)].map((m) => m[1]);
  assert.ok(events.indexOf('repaired') >= 0 && events.indexOf('repaired') < events.indexOf('evicted'),
    `the repair after the eviction, newest first: ${events}`);
  const shot = path.join(root, 'build/status-page-history.png');
  fs.rmSync(shot, { force: true });
  await chromium(`${pin.url}/ui`, `--screenshot=${shot}`);
  assert.ok(pngSize(shot).bytes > 10000);
});
