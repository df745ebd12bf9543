// Production hardening: keys, CORS, limits, cancellation, backpressure, signals, hostile input.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import http from 'node:http';
import { startFake, startKeepwarm, FakeControl, readSSE, sleep, until, metric, stopAll } from './harness.js';

const procs = [];
after(() => stopAll(procs));

const chat = (extra = {}) => JSON.stringify({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'x' }], ...extra });
const tmpfile = (name, text) => {
  const p = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kw-hard-')), name);
  fs.writeFileSync(p, text);
  return p;
};
const rss = (pid) => Number(fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]) * 1024;
// A raw HTTP exchange on one socket: returns everything the server sent until it closed.
function raw(port, data, { keepOpenMs = 0 } = {}) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => { s.write(data); if (!keepOpenMs) s.end(); });
    let out = '';
    s.on('data', (d) => { out += d; });
    s.on('close', () => resolve(out));
    s.on('error', reject);
    if (keepOpenMs) setTimeout(() => s.end(), keepOpenMs);
  });
}

test('API keys: Bearer, x-api-key and Basic password; 401 in each endpoint format; never forwarded', async () => {
  const fake = await startFake();
  procs.push(fake);
  const ctl = new FakeControl(fake);
  const keys = tmpfile('keys', '# team keys\nsk-from-file-123\n');
  const kw = await startKeepwarm(fake.url, ['--api-key', 'sk-flag-key-1'], { KEEPWARM_API_KEYS_FILE: keys });
  procs.push(kw);
  const post = (headers, p = '/v1/chat/completions') => fetch(`${kw.url}${p}`, { method: 'POST', headers, body: chat() });

  const none = await post({});
  assert.equal(none.status, 401);
  assert.match(none.headers.get('www-authenticate'), /^Bearer/);
  const env = await none.json();
  assert.equal(env.error.code, 'invalid_api_key');
  const wrong = await post({ authorization: 'Bearer sk-wrong' });
  assert.equal(wrong.status, 401);
  const nativeNone = await post({}, '/api/chat');
  assert.equal(nativeNone.status, 401);
  assert.deepEqual(await nativeNone.json(), { error: 'missing or invalid API key' });
  assert.equal((await fetch(`${kw.url}/api/tags`)).status, 401, 'the native API needs a key too');
  assert.equal((await fetch(`${kw.url}/metrics`)).status, 401);

  assert.equal((await post({ authorization: 'Bearer sk-flag-key-1' })).status, 200);
  assert.equal((await post({ 'x-api-key': 'sk-from-file-123' })).status, 200);
  const basic = Buffer.from('anyone:sk-flag-key-1').toString('base64');
  assert.equal((await post({ authorization: `Basic ${basic}` })).status, 200);
  const up = await ctl.lastRequest('/api/chat');
  assert.equal(up.headers.authorization, undefined);
  assert.equal(up.headers['x-api-key'], undefined);

  assert.equal((await fetch(`${kw.url}/healthz`)).status, 200, '/healthz needs no key');
  assert.notEqual((await fetch(`${kw.url}/readyz`)).status, 401, '/readyz needs no key');
  // Still serving after all the refusals.
  assert.equal((await post({ authorization: 'Bearer sk-from-file-123' })).status, 200);
});

test('admin_api: deny refuses model management; allow opens it; keys asks for a key', async () => {
  const fake = await startFake();
  procs.push(fake);
  const deny = await startKeepwarm(fake.url, [], { KEEPWARM_ADMIN_API: 'deny' });
  procs.push(deny);
  const d = await fetch(`${deny.url}/api/pull`, { method: 'POST', body: '{"model":"x"}' });
  assert.equal(d.status, 403);
  assert.match((await d.json()).error, /model management is disabled/);
  assert.equal((await fetch(`${deny.url}/api/delete`, { method: 'DELETE', body: '{"model":"x"}' })).status, 403);
  assert.equal((await fetch(`${deny.url}/api/tags`)).status, 200, 'inference endpoints stay open');

  const allow = await startKeepwarm(fake.url, ['--api-key', 'sk-needed-1'], { KEEPWARM_ADMIN_API: 'allow' });
  procs.push(allow);
  assert.notEqual((await fetch(`${allow.url}/api/copy`, { method: 'POST', body: '{}' })).status, 401);
  assert.equal((await fetch(`${allow.url}/api/tags`)).status, 401);

  const keys = await startKeepwarm(fake.url, ['--api-key', 'sk-needed-1']);
  procs.push(keys);
  assert.equal((await fetch(`${keys.url}/api/pull`, { method: 'POST', body: '{}' })).status, 401);
});

test('CORS: preflights answered by keepwarm; Ollama never sees a browser Origin', async () => {
  const fake = await startFake();
  procs.push(fake);
  const ctl = new FakeControl(fake);
  const kw = await startKeepwarm(fake.url, [], { KEEPWARM_CORS_ORIGINS: 'https://app.example, chrome-extension://abc' });
  procs.push(kw);
  const pre = await fetch(`${kw.url}/v1/chat/completions`, {
    method: 'OPTIONS',
    headers: {
      origin: 'https://app.example',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type, x-stainless-os, x-stainless-retry-count, x-evil',
    },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), 'https://app.example');
  assert.match(pre.headers.get('access-control-allow-methods'), /POST/);
  assert.equal(pre.headers.get('access-control-allow-headers'), 'authorization, content-type, x-stainless-os, x-stainless-retry-count');
  assert.equal((await ctl.requests()).filter((q) => q.path !== '/api/ps').length, 0, 'the preflight never reached Ollama');

  const bad = await fetch(`${kw.url}/v1/chat/completions`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
  assert.equal(bad.status, 403);

  const r = await fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', headers: { origin: 'chrome-extension://abc' }, body: chat() });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('access-control-allow-origin'), 'chrome-extension://abc');
  assert.equal((await ctl.lastRequest('/api/chat')).headers.origin, undefined);
  const other = await fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', headers: { origin: 'https://evil.example' }, body: chat() });
  assert.equal(other.status, 403, 'other origins are refused, as Ollama refuses them');
  assert.equal(other.headers.get('access-control-allow-origin'), null, 'no CORS grant for other origins');
});

test('limits: oversized headers, slowloris, and keepwarm keeps serving', async () => {
  const fake = await startFake();
  procs.push(fake);
  const kw = await startKeepwarm(fake.url, [], { KEEPWARM_IDLE_TIMEOUT: '1s' });
  procs.push(kw);
  const big = await raw(kw.port, `GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(70000)}\r\n\r\n`);
  assert.match(big, /^HTTP\/1\.1 4\d\d/, 'headers over 64 KiB are refused');
  const long = await raw(kw.port, `GET /api/${'a'.repeat(3000)} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
  assert.match(long, /^HTTP\/1\.1 414/, 'a path over 2 KiB is refused');
  assert.equal(await metric(kw, /keepwarm_requests_total\{route="other",code="414"\} (\d+)/), 1, 'and counted');

  const t0 = Date.now();
  const slow = await raw(kw.port, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n', { keepOpenMs: 5000 });
  const waited = Date.now() - t0;
  assert.ok(waited < 3000, `a client that never finishes its headers is dropped after idle_timeout (${waited} ms)`);
  assert.doesNotMatch(slow, /200 OK/);
  assert.equal((await fetch(`${kw.url}/healthz`)).status, 200);
});

test('max_connections: further connections wait in the backlog until one closes', async () => {
  const fake = await startFake();
  procs.push(fake);
  const kw = await startKeepwarm(fake.url, [], { KEEPWARM_MAX_CONNECTIONS: '2' });
  procs.push(kw);
  const open = () => new Promise((resolve) => { const s = net.connect(kw.port, '127.0.0.1', () => resolve(s)); });
  const a = await open();
  const b = await open();
  await sleep(200);
  let answered = false;
  const c = fetch(`${kw.url}/healthz`).then((r) => { answered = true; return r.status; });
  await sleep(400);
  assert.equal(answered, false, 'a third connection is not served while two are open');
  assert.match(kw.output, /max_connections reached/);
  a.destroy();
  assert.equal(await c, 200, 'served once a slot frees');
  b.destroy();
});

test('a long healthy stream outlives idle_timeout; a stalled reader is cut and Ollama cancelled', async () => {
  const fake = await startFake(['--token-delay', '250']);
  procs.push(fake);
  const ctl = new FakeControl(fake);
  const kw = await startKeepwarm(fake.url, [], { KEEPWARM_IDLE_TIMEOUT: '1s' });
  procs.push(kw);
  await ctl.post('script', { content: Array.from({ length: 10 }, (_, i) => `t${i} `) });
  const r = await fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', body: chat({ stream: true }) });
  const events = await readSSE(r);
  assert.equal(events[events.length - 1], '[DONE]', 'a 2.5 s stream with 1 s idle_timeout completes');

  // A reader that stops reading a large fast stream.
  await ctl.post('config', { token_delay_ms: 0 });
  // Large enough to fill the kernel's socket buffers on loopback (several MB) and keepwarm's.
  await ctl.post('script', { content: Array.from({ length: 30000 }, () => 'y'.repeat(1000)) });
  const before = await metric(kw, /keepwarm_cancels_total (\d+)/);
  const body = chat({ stream: true });
  const s = net.connect(kw.port, '127.0.0.1', () => {
    s.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  });
  s.pause(); // never read
  // keepwarm pauses Ollama, its write timeout drops the client, and the transfer is cancelled.
  // (The stand-in has already written everything into its own buffers by then, so keepwarm's
  // counter is the witness here; the abort tests check the stand-in side.)
  await until(async () => (await metric(kw, /keepwarm_cancels_total (\d+)/)) > before, 'the stalled reader cut and upstream cancelled', 8000);
  assert.ok(await metric(kw, /keepwarm_upstream_pauses_total (\d+)/) > 0);
  assert.equal(await metric(kw, /keepwarm_active_streams (-?\d+)/), 0);
  s.destroy();
});

test('backpressure: a slow reader pauses Ollama and keepwarm memory stays bounded', async () => {
  const fake = await startFake();
  procs.push(fake);
  const ctl = new FakeControl(fake);
  // Under ASan, freed memory sits in a 256 MB quarantine and would count as growth.
  const kw = await startKeepwarm(fake.url, [], { ASAN_OPTIONS: `${process.env.ASAN_OPTIONS ?? ''}:quarantine_size_mb=0:thread_local_quarantine_size_kb=0` });
  procs.push(kw);
  await fetch(`${kw.url}/healthz`);
  const base = rss(kw.child.pid);
  // About 8 MB of SSE for one client that reads slowly.
  await ctl.post('script', { content: Array.from({ length: 6000 }, () => 'z'.repeat(1000)) });
  let peak = 0;
  let received = 0;
  await new Promise((resolve, reject) => {
    const req = http.request(`${kw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      res.on('data', (d) => {
        received += d.length;
        res.pause();
        peak = Math.max(peak, rss(kw.child.pid));
        setTimeout(() => res.resume(), 2);
      });
      res.on('end', resolve);
      res.on('error', reject);
    });
    req.end(chat({ stream: true }));
  });
  assert.ok(received > 6_000_000, `received ${received} bytes`);
  assert.ok(await metric(kw, /keepwarm_upstream_pauses_total (\d+)/) > 0, 'Ollama was paused');
  assert.ok(peak - base < 6_000_000, `keepwarm grew ${(peak - base) / 1e6} MB for an 8 MB stream`);
});

test('cancellation: abort mid-stream and before the first byte stop Ollama at once', async () => {
  const fake = await startFake(['--token-delay', '100', '--load-delay', '3000']);
  procs.push(fake);
  const ctl = new FakeControl(fake);
  const kw = await startKeepwarm(fake.url);
  procs.push(kw);
  // Before the first byte: a non-streaming request while the model loads for 3 s.
  const ac = new AbortController();
  const p = fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', body: chat(), signal: ac.signal }).catch(() => null);
  await until(async () => (await ctl.stats()).in_flight === 1, 'request reached Ollama');
  const t0 = Date.now();
  ac.abort();
  await p;
  await until(async () => (await ctl.stats()).cancelled === 1, 'cancelled before the first byte', 1000);
  assert.ok(Date.now() - t0 < 1000, 'seen well before the 3 s load finished');
  assert.equal(await metric(kw, /keepwarm_cancels_total (\d+)/), 1);

  // Mid-stream (the model is loaded by now or loads again; wait for the first chunk).
  await ctl.post('config', { load_delay_ms: 0 });
  const ac2 = new AbortController();
  const r = await fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', body: chat({ stream: true }), signal: ac2.signal });
  const reader = r.body.getReader();
  await reader.read();
  ac2.abort();
  await until(async () => (await ctl.stats()).cancelled === 2, 'cancelled mid-stream', 1000);
  await until(async () => (await ctl.stats()).in_flight === 0, 'nothing left in flight', 1000);
});

test('pipelined requests on one connection are both answered', async () => {
  const fake = await startFake(['--token-delay', '50']);
  procs.push(fake);
  const kw = await startKeepwarm(fake.url);
  procs.push(kw);
  const b = chat();
  const one = `POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${b.length}\r\n\r\n${b}`;
  const out = await raw(kw.port, one + one.replace('HTTP/1.1\r\n', 'HTTP/1.1\r\nConnection: close\r\n'), { keepOpenMs: 3000 });
  assert.equal((out.match(/HTTP\/1\.1 200/g) || []).length, 2, out.slice(0, 300));
  assert.equal((out.match(/Hello from fake ollama\./g) || []).length, 2);
});

test('max_concurrent: the next request for a busy model gets 429 with Retry-After', async () => {
  const fake = await startFake(['--token-delay', '200']);
  procs.push(fake);
  const conf = tmpfile('k.ini', '[model "llama3.2:3b"]\nmax_concurrent = 1\n');
  const kw = await startKeepwarm(fake.url, ['-c', conf]);
  procs.push(kw);
  const first = fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', body: chat() });
  await sleep(100);
  const second = await fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', body: chat() });
  assert.equal(second.status, 429);
  assert.equal(second.headers.get('retry-after'), '1');
  assert.match((await second.json()).error.message, /too many concurrent requests/);
  const native = await fetch(`${kw.url}/api/chat`, { method: 'POST', body: chat({ stream: false }) });
  assert.equal(native.status, 429);
  assert.equal((await first).status, 200);
  assert.equal((await fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', body: chat() })).status, 200, 'free again');
  const other = await fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'qwen3:8b', messages: [{ role: 'user', content: 'x' }] }) });
  assert.equal(other.status, 200, 'other models are not limited');
});

test('an NDJSON line over max_line_size ends the stream with an error event', async () => {
  const fake = await startFake();
  procs.push(fake);
  const ctl = new FakeControl(fake);
  const kw = await startKeepwarm(fake.url, [], { KEEPWARM_MAX_LINE_SIZE: '4KiB' });
  procs.push(kw);
  await ctl.post('script', { content: ['ok', 'x'.repeat(8000)] });
  const events = await readSSE(await fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', body: chat({ stream: true }) }));
  assert.match(events[events.length - 1].error.message, /exceeds max_line_size/);
  const big = await fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', body: chat() });
  assert.equal(big.status, 502, 'a non-stream answer over the cap');
  assert.match((await big.json()).error.message, /exceeds max_line_size/);
});

test('X-Request-Id is accepted or generated, echoed, and passed to Ollama', async () => {
  const fake = await startFake();
  procs.push(fake);
  const ctl = new FakeControl(fake);
  const kw = await startKeepwarm(fake.url);
  procs.push(kw);
  const a = await fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', headers: { 'x-request-id': 'req-42' }, body: chat() });
  assert.equal(a.headers.get('x-request-id'), 'req-42');
  assert.equal((await ctl.lastRequest('/api/chat')).headers['x-request-id'], 'req-42');
  const b = await fetch(`${kw.url}/api/tags`);
  assert.match(b.headers.get('x-request-id'), /^[0-9a-f]{9,}$/);
  assert.equal((await ctl.lastRequest('/api/tags')).headers['x-request-id'], b.headers.get('x-request-id'));
  // One too long is replaced: Ollama gets the new one, once, and never the client's.
  const c = await fetch(`${kw.url}/api/tags`, { headers: { 'x-request-id': 'x'.repeat(200) } });
  assert.match(c.headers.get('x-request-id'), /^[0-9a-f]{16}$/);
  assert.equal((await ctl.lastRequest('/api/tags')).headers['x-request-id'], c.headers.get('x-request-id'));
});

test('hostile bodies get a 4xx and nothing else changes', async () => {
  const fake = await startFake();
  procs.push(fake);
  const ctl = new FakeControl(fake);
  const kw = await startKeepwarm(fake.url);
  procs.push(kw);
  const bodies = [
    '{"model":"llama3.2:3b","messages":[],"messages":[]}',
    Buffer.from([0x7b, 0x22, 0x6d, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
    '['.repeat(100000),
    '{"model":"llama3.2:3b","messages":[{"role":"user","content":"x"}],"max_tokens":1e400}',
    '{"model":"llama3.2:3b","messages":[{"role":"user","content":"x"}],"seed":123456789012345678901234567890}',
    '{"model":["x"],"messages":"no"}',
    '',
    '{"model":"llama3.2:3b","messages":[{"role":"user","content":"\\u0000"}]}',
    'null',
  ];
  for (const body of bodies) {
    for (const p of ['/v1/chat/completions', '/v1/completions', '/v1/embeddings', '/api/chat', '/api/generate']) {
      const r = await fetch(`${kw.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assert.ok(r.status >= 400 && r.status < 500, `${p} ${String(body).slice(0, 40)} -> ${r.status}`);
      await r.arrayBuffer();
    }
  }
  assert.equal((await ctl.requests()).filter((q) => q.path !== '/api/ps').length, 0, 'nothing hostile reached Ollama');
  assert.equal((await fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', body: chat() })).status, 200);
});

test('500 concurrent streams complete', async () => {
  const fake = await startFake(['--token-delay', '20']);
  procs.push(fake);
  const kw = await startKeepwarm(fake.url);
  procs.push(kw);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 600 });
  const one = () => new Promise((resolve, reject) => {
    const req = http.request(`${kw.url}/v1/chat/completions`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve(text));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(chat({ stream: true }));
  });
  const results = await Promise.all(Array.from({ length: 500 }, one));
  agent.destroy();
  assert.equal(results.filter((t) => t.endsWith('data: [DONE]\n\n')).length, 500);
});

test('SIGTERM drains: the stream in flight completes, new connections are refused, exit 0', async () => {
  const fake = await startFake(['--token-delay', '200']);
  procs.push(fake);
  const kw = await startKeepwarm(fake.url);
  procs.push(kw); // stopped here by SIGTERM; by the after hook if a check fails first
  const r = await fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', body: chat({ stream: true }) });
  const reader = r.body.getReader();
  await reader.read();
  kw.child.kill('SIGTERM');
  await sleep(100);
  await assert.rejects(fetch(`${kw.url}/healthz`), 'no new connections while draining');
  let text = '';
  for (;;) { const { done, value } = await reader.read(); if (done) break; text += new TextDecoder().decode(value); }
  assert.match(text, /data: \[DONE\]/);
  assert.equal(await kw.exited(), 0);
  assert.match(kw.output, /drained, exiting/);
});

test('SIGTERM with a stream that outlasts shutdown_timeout: cancelled, exit 0', async () => {
  const fake = await startFake(['--token-delay', '500']);
  procs.push(fake);
  const ctl = new FakeControl(fake);
  const kw = await startKeepwarm(fake.url, [], { KEEPWARM_SHUTDOWN_TIMEOUT: '300ms' });
  procs.push(kw); // stopped here by SIGTERM; by the after hook if a check fails first
  const r = await fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', body: chat({ stream: true }) });
  const reader = r.body.getReader();
  await reader.read();
  kw.child.kill('SIGTERM');
  assert.equal(await kw.exited(), 0);
  assert.match(kw.output, /shutdown_timeout reached/);
  await until(async () => (await ctl.stats()).cancelled === 1, 'Ollama saw the cancel');
  await reader.read().catch(() => null);
});

test('SIGTERM past shutdown_timeout with every kind of relay in flight: all freed at teardown, exit 0', async () => {
  // Streams (OpenAI SSE, native NDJSON), buffered answers (non-stream), a per-model counter
  // held (max_concurrent) and a model the warm loop would note: teardown frees every relay
  // after the loop stopped, before the server and warm loop they borrow from (a sanitizer
  // build reports any relay that leaks or outlives them).
  const fake = await startFake(['--token-delay', '500']);
  procs.push(fake);
  const ctl = new FakeControl(fake);
  const kw = await startKeepwarm(fake.url, [], { KEEPWARM_SHUTDOWN_TIMEOUT: '300ms', KEEPWARM_MAX_CONCURRENT: '8' });
  procs.push(kw); // stopped here by SIGTERM; by the after hook if a check fails first
  const post = (p, body) => fetch(`${kw.url}${p}`, { method: 'POST', body: JSON.stringify(body) });
  const gen = { model: 'llama3.2:3b', prompt: 'x' };
  const answers = [
    post('/v1/chat/completions', { model: 'llama3.2:3b', messages: [{ role: 'user', content: 'x' }], stream: true }),
    post('/v1/completions', { ...gen, stream: true }),
    post('/api/generate', { ...gen, stream: true }),
    post('/api/chat', { model: 'llama3.2:3b', messages: [{ role: 'user', content: 'x' }] }),
    post('/v1/chat/completions', { model: 'llama3.2:3b', messages: [{ role: 'user', content: 'x' }] }),
    post('/api/generate', { ...gen, stream: false }),
  ].map((p) => p.then((r) => r.text()).catch(() => null));
  await until(async () => (await ctl.stats()).in_flight >= 6, 'every request reached Ollama');
  kw.child.kill('SIGTERM');
  assert.equal(await kw.exited(), 0, kw.output.slice(-4000));
  assert.match(kw.output, /shutdown_timeout reached/);
  assert.doesNotMatch(kw.output, /AddressSanitizer|LeakSanitizer|runtime error/);
  await Promise.all(answers);
});

test('SIGHUP reloads: the injected keep_alive changes; a bad file keeps the old one', async () => {
  const fake = await startFake();
  procs.push(fake);
  const ctl = new FakeControl(fake);
  const conf = tmpfile('k.ini', '[keepwarm]\nkeep_alive = 10m\n');
  const kw = await startKeepwarm(fake.url, ['-c', conf]);
  procs.push(kw);
  const send = async () => {
    await fetch(`${kw.url}/api/generate`, { method: 'POST', body: JSON.stringify({ model: 'llama3.2:3b', prompt: 'x', stream: false }) });
    return (await ctl.lastRequest('/api/generate')).body.keep_alive;
  };
  assert.equal(await send(), 600);
  fs.writeFileSync(conf, '[keepwarm]\nkeep_alive = 2h\n');
  kw.child.kill('SIGHUP');
  await until(async () => /configuration reloaded/.test(kw.output), 'reload logged');
  assert.equal(await send(), 7200);
  fs.writeFileSync(conf, '[keepwarm]\nkeep_alive = forever-ish\n');
  kw.child.kill('SIGHUP');
  await until(async () => /reload failed, keeping the running configuration/.test(kw.output), 'failure logged');
  assert.equal(await send(), 7200);
});

test('SIGHUP with an upstream the client cannot use keeps the whole running configuration, upstream name included', async () => {
  const fake = await startFake();
  procs.push(fake);
  const ctl = new FakeControl(fake);
  const conf = tmpfile('k.ini', `[keepwarm]\nupstream = ${fake.url}\nkeep_alive = 10m\n`);
  const kw = await startKeepwarm(null, ['-c', conf], { KEEPWARM_UPSTREAM_CLIENT: 'builtin' });
  procs.push(kw);
  const send = async () => {
    await fetch(`${kw.url}/api/generate`, { method: 'POST', body: JSON.stringify({ model: 'llama3.2:3b', prompt: 'x', stream: false }) });
    return (await ctl.lastRequest('/api/generate')).body.keep_alive;
  };
  assert.equal(await send(), 600);
  // A port of six digits: the file itself parses (--check says OK), the builtin client refuses it.
  fs.writeFileSync(conf, `[keepwarm]\nupstream = http://127.0.0.1:011434\nkeep_alive = 2h\n`);
  kw.child.kill('SIGHUP');
  await until(async () => /reload failed, keeping the running configuration/.test(kw.output), 'failure logged');
  assert.doesNotMatch(kw.output, /configuration reloaded/);
  const st = await (await fetch(`${kw.url}/status`)).json();
  assert.equal(st.upstream.url, fake.url, '/status names the upstream requests go to');
  assert.equal(await send(), 600, 'the rest of the file is not half applied');
});
