// Client-chosen names must not own server state, and no client text may forge a log line:
// made-up model names neither switch max_concurrent off, nor fill max_pinned or the warm
// table, nor keep /readyz at 503; a configured pin always finds its place (even when a hostile
// upstream lists hundreds of models); a model name or path with a newline or a quote stays one
// escaped value in one line.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { startFake, startKeepwarm, FakeControl, until, sleep, stopAll, iniFile as ini } from './harness.js';

const procs = [];
const servers = [];
after(async () => {
  try {
    await stopAll(procs);
  } finally {
    for (const s of servers) s.close();
  }
});

const status = async (kw) => (await fetch(`${kw.url}/status`)).json();
const modelStatus = async (kw, name) => (await status(kw)).models.find((m) => m.name === name);

const chat = (kw, model, extra = {}) => fetch(`${kw.url}/api/chat`, {
  method: 'POST',
  body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }], stream: false, ...extra }),
});

// n requests for distinct made-up names, a few at a time, through both the native and the
// OpenAI paths; every one must be Ollama's 404.
async function bogusFlood(kw, n, prefix = 'bogus') {
  for (let i = 0; i < n; i += 20) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 20); j++) {
      const model = `${prefix}-${j}:latest`;
      batch.push(j % 2
        ? chat(kw, model)
        : fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }] }) }));
    }
    for (const r of await Promise.all(batch)) {
      assert.equal(r.status, 404);
      await r.arrayBuffer();
    }
  }
}

// With one request for model in flight (a stream whose first line has arrived), a second one
// must get 429. The first stream is then read to its end.
async function assertLimited(kw, model) {
  const first = await chat(kw, model, { stream: true });
  assert.equal(first.status, 200);
  const reader = first.body.getReader();
  await reader.read(); // the first token: the request is in flight at keepwarm
  const second = await chat(kw, model);
  const body = await second.json();
  assert.equal(second.status, 429, `second request for ${model.slice(0, 40)}...: ${JSON.stringify(body)}`);
  assert.match(body.error, /too many concurrent requests/);
  while (!(await reader.read()).done);
  // and once the first is over, the model is served again
  const third = await chat(kw, model);
  assert.equal(third.status, 200);
  await third.arrayBuffer();
}

test('300 made-up model names leave max_concurrent in force for a new model', async () => {
  const fake = await startFake(['--token-delay', '60']);
  procs.push(fake);
  const kw = await startKeepwarm(fake.url, [], { KEEPWARM_MAX_CONCURRENT: '1' });
  procs.push(kw);
  await bogusFlood(kw, 300);
  await assertLimited(kw, 'llama3.2:3b');
});

test('a 200-byte model name is limited like any other', async () => {
  // host/namespace/model:tag, each part within Ollama's limits (350, 80, 80, 80 bytes)
  const long = `${'h'.repeat(60)}/${'n'.repeat(60)}/${'m'.repeat(70)}:${'t'.repeat(7)}`;
  assert.equal(long.length, 200);
  const fake = await startFake(['--token-delay', '60', '--models', `llama3.2:3b,${long}`]);
  procs.push(fake);
  const kw = await startKeepwarm(fake.url, [], { KEEPWARM_MAX_CONCURRENT: '1' });
  procs.push(kw);
  await assertLimited(kw, long);
});

test('pin_requested: models Ollama does not have fill neither max_pinned nor /status; /readyz stays 200', async () => {
  const fake = await startFake();
  procs.push(fake);
  const conf = ini('[keepwarm]\npin_requested = yes\nmax_pinned = 2\nping_interval = 100ms\n');
  const kw = await startKeepwarm(fake.url, ['-c', conf]);
  procs.push(kw);
  const r1 = await fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'nothere:1b', messages: [{ role: 'user', content: 'x' }] }) });
  assert.equal(r1.status, 404);
  const r2 = await fetch(`${kw.url}/api/generate`, { method: 'POST', body: JSON.stringify({ model: 'nothere-either', prompt: 'x' }) });
  assert.equal(r2.status, 404);
  await sleep(300); // a few warm rounds
  const ready = await fetch(`${kw.url}/readyz`);
  const rb = await ready.json();
  assert.equal(ready.status, 200, JSON.stringify(rb));
  const names = (await status(kw)).models.map((m) => m.name);
  assert.ok(!names.includes('nothere:1b') && !names.includes('nothere-either'), `status lists ${names}`);

  // Models Ollama has are still pinned when asked for, up to max_pinned; the next one is
  // refused with a warning instead of silently.
  for (const m of ['llama3.2:3b', 'qwen3:8b', 'codellama:7b']) {
    const r = await chat(kw, m);
    assert.equal(r.status, 200);
    await r.arrayBuffer();
  }
  assert.equal((await modelStatus(kw, 'llama3.2:3b')).requested, true);
  assert.equal((await modelStatus(kw, 'qwen3:8b')).requested, true);
  assert.equal((await modelStatus(kw, 'codellama:7b')).requested, false);
  await until(async () => /level=warn msg="not pinning a requested model: max_pinned reached" model=codellama:7b max_pinned=2/.test(kw.output), 'refusal logged');
  // /readyz was 200 before they were asked for: that it is now says nothing of them by itself
  await until(async () => (await modelStatus(kw, 'llama3.2:3b'))?.loaded === true &&
    (await modelStatus(kw, 'qwen3:8b'))?.loaded === true, 'the two requested models seen loaded');
  await until(async () => (await fetch(`${kw.url}/readyz`)).status === 200, 'ready with the two requested models loaded');
});

test('a flood of made-up names, then a pin added by SIGHUP is tracked and warmed', async () => {
  const fake = await startFake();
  procs.push(fake);
  const ctl = new FakeControl(fake);
  const conf = ini('[keepwarm]\nping_interval = 100ms\n');
  const kw = await startKeepwarm(fake.url, ['-c', conf]);
  procs.push(kw);
  await bogusFlood(kw, 300);
  fs.writeFileSync(conf, '[keepwarm]\nping_interval = 100ms\npin = qwen3:8b\n');
  kw.child.kill('SIGHUP');
  await until(async () => /configuration reloaded/.test(kw.output), 'reload logged');
  await until(async () => (await modelStatus(kw, 'qwen3:8b'))?.pinned === true, 'the SIGHUP pin is tracked');
  await until(async () => (await ctl.stats()).loaded.some((m) => m.startsWith('qwen3:8b')), 'the SIGHUP pin is loaded');
  await until(async () => (await modelStatus(kw, 'qwen3:8b'))?.loaded === true, 'and seen loaded');
  const ready = await fetch(`${kw.url}/readyz`);
  assert.equal(ready.status, 200, JSON.stringify(await ready.json()));
});

// A hostile (or just busy) upstream whose /api/ps lists hundreds of models: they fill the warm
// table, but never take a configured pin's place, at startup or after SIGHUP.
test('hundreds of models in /api/ps never push out a configured pin', async () => {
  const loaded = new Set();
  const pings = [];
  const up = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      res.setHeader('Content-Type', 'application/json');
      if (req.url === '/api/ps') {
        const models = [];
        for (let i = 0; i < 300; i++) models.push({ name: `listed-${i}:latest`, model: `listed-${i}:latest`, size: 1, size_vram: 1, expires_at: '2318-01-01T00:00:00Z' });
        for (const m of loaded) models.push({ name: m, model: m, size: 1, size_vram: 1, expires_at: '2318-01-01T00:00:00Z' });
        res.end(JSON.stringify({ models }));
      } else if (req.url === '/api/generate' && req.method === 'POST') {
        const b = JSON.parse(body);
        pings.push(b.model);
        loaded.add(b.model);
        res.end(JSON.stringify({ model: b.model, done: true, done_reason: 'load' }));
      } else {
        res.statusCode = 404;
        res.end('{"error":"not here"}');
      }
    });
  });
  servers.push(up);
  await new Promise((r) => up.listen(0, '127.0.0.1', r));
  const conf = ini('[keepwarm]\nping_interval = 100ms\npin = first:1b\n');
  const kw = await startKeepwarm(`http://127.0.0.1:${up.address().port}`, ['-c', conf]);
  procs.push(kw);
  await until(async () => (await modelStatus(kw, 'first:1b'))?.loaded === true, 'the startup pin is loaded');
  await until(async () => (await status(kw)).models.length >= 128, 'the table filled from /api/ps');
  fs.writeFileSync(conf, '[keepwarm]\nping_interval = 100ms\npin = first:1b, second:1b\n');
  kw.child.kill('SIGHUP');
  await until(async () => (await modelStatus(kw, 'second:1b'))?.pinned === true, 'the SIGHUP pin is tracked');
  await until(async () => pings.includes('second:1b'), 'the SIGHUP pin is warmed');
  await until(async () => (await modelStatus(kw, 'second:1b'))?.loaded === true, 'and seen loaded');
  assert.equal((await modelStatus(kw, 'first:1b')).pinned, true);
  const ready = await fetch(`${kw.url}/readyz`);
  assert.equal(ready.status, 200, JSON.stringify(await ready.json()));
});

// ---- log forging ---------------------------------------------------------------------------

// One logfmt line -> {key: value}, or null when it is not logfmt (a stray quote, a bare word).
function parseLogfmt(line) {
  const out = {};
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ') { i++; continue; }
    const eq = line.indexOf('=', i);
    if (eq <= i) return null;
    const key = line.slice(i, eq);
    if (/[ "]/.test(key)) return null;
    i = eq + 1;
    let value = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) return null;
        const c = line[i];
        if (c === '"') { i++; break; }
        if (c === '\\') {
          const n = line[i + 1];
          if (n === 'n') value += '\n';
          else if (n === 'r') value += '\r';
          else if (n === 't') value += '\t';
          else if (n === 'u') { value += String.fromCharCode(parseInt(line.slice(i + 2, i + 6), 16)); i += 4; }
          else value += n;
          i += 2;
          continue;
        }
        value += c;
        i++;
      }
      if (i < line.length && line[i] !== ' ') return null;
    } else {
      while (i < line.length && line[i] !== ' ') {
        if (line[i] === '"') return null;
        value += line[i++];
      }
    }
    if (key in out) return null; // a field given twice: injected
    out[key] = value;
  }
  return out;
}

function rawRequest(port, text) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(text));
    let got = '';
    s.on('data', (d) => { got += d; if (/\r\n\r\n/.test(got)) s.end(); });
    s.on('end', () => resolve(got));
    s.on('close', () => resolve(got));
    s.on('error', reject);
  });
}

test('a model name or path with a newline or a quote forges no line and no field', async () => {
  const fake = await startFake();
  procs.push(fake);
  const kw = await startKeepwarm(fake.url, [], { KEEPWARM_LOG_LEVEL: 'debug' });
  procs.push(kw);
  const forged = 'x\n level=error msg=forged';
  const quoted = 'm" status=999 injected="1';
  const both = 'q\r\n\tts=1 level=error msg="forged" \u0007 \\';
  for (const model of [forged, quoted, both]) {
    for (const p of ['/api/chat', '/v1/chat/completions']) {
      const r = await fetch(`${kw.url}${p}`, { method: 'POST', body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }], stream: false }) });
      assert.ok(r.status >= 400, `${p}: ${r.status}`);
      await r.arrayBuffer();
    }
  }
  // a quote in the request target (evhttp accepts it)
  const reply = await rawRequest(kw.port, 'GET /api/x%22y"z=1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
  assert.match(reply, /^HTTP\/1\.1 \d{3}/);

  await until(() => (kw.output.match(/msg="request"/g) || []).length >= 7, 'the access lines', 5000);
  const lines = kw.output.split('\n').filter((l) => l.length);
  const seenModels = [];
  const seenPaths = [];
  for (const line of lines) {
    assert.match(line, /^ts=\S+ level=(debug|info|warn|error) msg=/, `a line that keepwarm did not write: ${JSON.stringify(line)}`);
    const f = parseLogfmt(line);
    assert.ok(f, `not one logfmt line: ${JSON.stringify(line)}`);
    assert.notEqual(f.level, 'error', `an error line: ${line}`);
    assert.ok(!('injected' in f), `an injected field: ${line}`);
    if (f.msg === 'request') {
      assert.deepEqual(Object.keys(f), ['ts', 'level', 'msg', 'request_id', 'method', 'path', 'model', 'status', 'bytes', 'ttft_ms', 'duration_ms', 'prompt_tokens', 'completion_tokens', 'cancelled']);
      assert.match(f.status, /^\d{3}$/);
      seenModels.push(f.model);
      seenPaths.push(f.path);
    }
  }
  // the values read back as the client sent them
  for (const model of [forged, quoted, both]) assert.ok(seenModels.includes(model), `model ${JSON.stringify(model)} in ${JSON.stringify(seenModels)}`);
  assert.ok(seenPaths.includes('/api/x%22y"z=1'), `paths: ${JSON.stringify(seenPaths)}`);
});
