// The core path: OpenAI chat through keepwarm to the stand-in's native API, with keep_alive
// and pinned options injected, native passthrough, and every error path of issue 2.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import OpenAI from 'openai';
import { Ollama } from 'ollama';
import { startFake, startKeepwarm, FakeControl, readSSE, parseSSE, sleep } from './harness.js';

let fake, kw, ctl, client;

before(async () => {
  fake = await startFake(['--token-delay', '20']);
  ctl = new FakeControl(fake);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kw-core-'));
  const ini = path.join(dir, 'keepwarm.ini');
  fs.writeFileSync(ini, [
    '[keepwarm]',
    'keep_alive = -1',
    '[model "qwen3:8b"]',
    'keep_alive = 24h',
    'num_ctx = 8192',
    'num_predict_max = 3',
    '',
  ].join('\n'));
  kw = await startKeepwarm(fake.url, ['-c', ini]);
  client = new OpenAI({ baseURL: `${kw.url}/v1`, apiKey: 'sk-test-not-forwarded', maxRetries: 0 });
});

after(async () => {
  let code;
  try {
    code = await kw?.stop();
  } finally {
    await fake?.stop();
  }
  assert.equal(code, 0, `keepwarm exit code (output: ${kw?.output})`);
});

beforeEach(async () => { await ctl.reset(); });

test('chat, non-stream: OpenAI shape and keep_alive injected upstream', async () => {
  const res = await client.chat.completions.create({
    model: 'llama3.2:3b',
    messages: [{ role: 'user', content: 'Say hello' }],
  });
  assert.match(res.id, /^chatcmpl-\d+$/);
  assert.equal(res.object, 'chat.completion');
  assert.equal(res.system_fingerprint, 'fp_ollama');
  assert.equal(res.model, 'llama3.2:3b');
  assert.equal(res.choices.length, 1);
  assert.equal(res.choices[0].message.role, 'assistant');
  assert.equal(res.choices[0].message.content, 'Hello from fake ollama.');
  assert.equal(res.choices[0].finish_reason, 'stop');
  assert.ok(res.usage.prompt_tokens > 0);
  assert.equal(res.usage.total_tokens, res.usage.prompt_tokens + res.usage.completion_tokens);

  const up = await ctl.lastRequest('/api/chat');
  assert.ok(up, 'the stand-in saw /api/chat');
  assert.equal(up.body.keep_alive, -1, 'keep_alive -1 as a JSON number');
  assert.equal(up.body.stream, false);
  assert.deepEqual(up.body.options, { temperature: 1, top_p: 1 });
  assert.deepEqual(up.body.messages, [{ role: 'user', content: 'Say hello' }]);
  assert.equal(up.headers.authorization, undefined, 'client key not forwarded');
  assert.equal(up.headers.origin, undefined);
  assert.match(up.headers.host, /^127\.0\.0\.1:\d+$/);
});

test('chat, stream: role-first chunks, finish chunk, usage chunk, [DONE]; flushed per line', async () => {
  await ctl.post('config', { token_delay_ms: 150 });
  const stream = await client.chat.completions.create({
    model: 'llama3.2:3b',
    messages: [{ role: 'user', content: 'Say hello' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const chunks = [];
  let inFlightAtFirst = null;
  for await (const c of stream) {
    if (chunks.length === 0) inFlightAtFirst = (await ctl.stats()).in_flight;
    chunks.push(c);
  }
  // The first chunk reached the client while the stand-in was still generating: no buffering.
  assert.equal(inFlightAtFirst, 1);
  const ids = new Set(chunks.map((c) => c.id));
  assert.equal(ids.size, 1, 'one id for the whole stream');
  assert.equal(new Set(chunks.map((c) => c.created)).size, 1, 'one created for the whole stream');
  assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: 'Hello' });
  assert.equal(chunks[1].choices[0].delta.role, undefined, 'role only on the first chunk');
  const text = chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? '')).join('');
  assert.equal(text, 'Hello from fake ollama.');
  const finish = chunks[chunks.length - 2];
  assert.deepEqual(finish.choices, [{ index: 0, delta: {}, finish_reason: 'stop' }]);
  const usage = chunks[chunks.length - 1];
  assert.deepEqual(usage.choices, []);
  assert.equal(usage.usage.completion_tokens, 5);
  for (const c of chunks) assert.equal(c.object, 'chat.completion.chunk');

  const up = await ctl.lastRequest('/api/chat');
  assert.equal(up.body.stream, true);
  assert.equal(up.body.keep_alive, -1);
});

test('chat, stream over raw HTTP: SSE framing and [DONE], no usage unless asked', async () => {
  const r = await fetch(`${kw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'hi' }], stream: true }),
  });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/event-stream/);
  assert.equal(r.headers.get('x-accel-buffering'), 'no');
  const events = await readSSE(r);
  assert.equal(events[events.length - 1], '[DONE]');
  assert.ok(events.every((e) => e === '[DONE]' || e.usage === undefined), 'no usage chunk');
});

test('per-model keep_alive, pinned num_ctx and num_predict_max are injected', async () => {
  await client.chat.completions.create({
    model: 'qwen3:8b',
    messages: [{ role: 'user', content: 'think' }],
    max_completion_tokens: 100,
  });
  const up = await ctl.lastRequest('/api/chat');
  assert.equal(up.body.keep_alive, 86400, '24h as seconds');
  assert.equal(up.body.options.num_ctx, 8192);
  assert.equal(up.body.options.num_predict, 3, 'max_completion_tokens capped at num_predict_max');
});

test('max_completion_tokens maps to num_predict (Ollama ignores it)', async () => {
  await client.chat.completions.create({
    model: 'llama3.2:3b', messages: [{ role: 'user', content: 'x' }], max_completion_tokens: 2,
  });
  const up = await ctl.lastRequest('/api/chat');
  assert.equal(up.body.options.num_predict, 2);
});

test('client extras (Open WebUI style) are overridden under the override policy', async () => {
  await client.chat.completions.create({
    model: 'llama3.2:3b',
    messages: [{ role: 'user', content: 'x' }],
    // @ts-ignore extra fields, as extra_body sends them
    keep_alive: '-1', num_ctx: 2048, options: { num_ctx: 1024, top_k: 7 },
  });
  const up = await ctl.lastRequest('/api/chat');
  assert.equal(up.body.keep_alive, -1);
  assert.equal(up.body.options.top_k, 7, 'non-runner client options are honoured');
  assert.equal(typeof up.body.keep_alive, 'number');
});

test('native /api/chat through the ollama client: injection seen upstream', async () => {
  const ollama = new Ollama({ host: kw.url });
  const res = await ollama.chat({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(res.message.content, 'Hello from fake ollama.');
  assert.equal(res.done, true);
  const up = await ctl.lastRequest('/api/chat');
  assert.equal(up.body.keep_alive, -1);

  const parts = [];
  for await (const p of await ollama.generate({ model: 'qwen3:8b', prompt: 'x', stream: true, think: false })) parts.push(p);
  assert.equal(parts[parts.length - 1].done, true);
  const gen = await ctl.lastRequest('/api/generate');
  assert.equal(gen.body.keep_alive, 86400);
  assert.equal(gen.body.options.num_ctx, 8192);
});

test('native streaming passthrough relays NDJSON line by line', async () => {
  await ctl.post('config', { token_delay_ms: 150 });
  const r = await fetch(`${kw.url}/api/generate`, {
    method: 'POST', body: JSON.stringify({ model: 'llama3.2:3b', prompt: 'hi' }),
  });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /application\/x-ndjson/);
  const reader = r.body.getReader();
  const first = await reader.read();
  const line = JSON.parse(new TextDecoder().decode(first.value).split('\n')[0]);
  assert.equal(line.done, false);
  assert.equal((await ctl.stats()).in_flight, 1, 'first line arrived before generation ended');
  let rest = '';
  for (;;) { const { done, value } = await reader.read(); if (done) break; rest += new TextDecoder().decode(value); }
  assert.match(rest, /"done":true/);
});

test('passthrough: GET /, HEAD /, /api/tags, /api/ps, /api/version untouched', async () => {
  const root = await fetch(`${kw.url}/`);
  assert.equal(root.status, 200);
  assert.equal(await root.text(), 'Ollama is running');
  const head = await fetch(`${kw.url}/`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  const tags = await (await fetch(`${kw.url}/api/tags`)).json();
  assert.ok(tags.models.some((m) => m.name === 'llama3.2:3b'));
  const ps = await (await fetch(`${kw.url}/api/ps`)).json();
  assert.ok(Array.isArray(ps.models));
  const v = await fetch(`${kw.url}/api/version?x=1`);
  assert.equal(v.status, 200);
  const up = await ctl.lastRequest('/api/version');
  assert.equal(up.path, '/api/version?x=1', 'query string kept');
});

test('Host and Origin headers are not forwarded; foreign ones are refused as Ollama refuses them', async () => {
  const body = JSON.stringify({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'x' }] });
  const send = (hostHdr, origin) => new Promise((resolve, reject) => {
    const s = net.connect(kw.port, '127.0.0.1', () => {
      s.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: ${hostHdr}\r\nOrigin: ${origin}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    });
    let data = '';
    s.on('data', (d) => { data += d; });
    s.on('end', () => resolve(data));
    s.on('error', reject);
  });
  assert.match(await send('evil.example.com', 'https://evil.example.com'), /^HTTP\/1\.1 403/);
  assert.match(await send(`127.0.0.1:${kw.port}`, 'https://evil.example.com'), /^HTTP\/1\.1 403/);
  assert.match(await send('evil.example.com', 'http://localhost:3000'), /^HTTP\/1\.1 403/);
  assert.equal(await ctl.lastRequest('/api/chat'), undefined, 'none reached Ollama');
  assert.match(await send('localhost:11435', 'http://localhost:3000'), /^HTTP\/1\.1 200/);
  const up = await ctl.lastRequest('/api/chat');
  assert.notEqual(up.headers.host, 'localhost:11435');
  assert.equal(up.headers.origin, undefined);
});

test('errors: malformed JSON, wrong types, duplicate keys, empty body -> 400 OpenAI envelope', async () => {
  const post = (body) => fetch(`${kw.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body,
  });
  for (const [body, re] of [
    ['{"model":', /invalid JSON/],
    ['{"model":"m","model":"n","messages":[]}', /duplicate/],
    ['', /missing request body|empty/],
    ['[1,2]', /object/],
    [JSON.stringify({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'x' }], temperature: 'hot' }), /temperature/],
    [JSON.stringify({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 2 }] }), /invalid message content type: float64/],
    [JSON.stringify({ model: 'llama3.2:3b', messages: [] }), /too short/],
  ]) {
    const r = await post(body);
    assert.equal(r.status, 400, `status for ${body}`);
    const j = await r.json();
    assert.equal(j.error.type, 'invalid_request_error');
    assert.match(j.error.message, re);
    assert.ok('param' in j.error && 'code' in j.error);
  }
  // and keepwarm still serves
  const ok = await client.chat.completions.create({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'x' }] });
  assert.equal(ok.choices[0].finish_reason, 'stop');
});

test('errors: unknown model -> 404 not_found_error, surfaced as the SDK typed error', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'nope:1b', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof OpenAI.NotFoundError && e.status === 404 && /model 'nope:1b' not found/.test(e.message),
  );
  const r = await fetch(`${kw.url}/v1/chat/completions`, {
    method: 'POST', body: JSON.stringify({ model: 'nope:1b', messages: [{ role: 'user', content: 'x' }] }),
  });
  const j = await r.json();
  assert.equal(j.error.type, 'not_found_error');
});

test('errors: upstream failure before the first byte keeps its status in the envelope', async () => {
  // (A runner crash would be retried once: warm.test.js covers that.)
  await ctl.post('fail', { when: 'before', status: 500, error: 'model requires more system memory (9.1 GiB) than is available (4.0 GiB)', count: 1 });
  await assert.rejects(
    client.chat.completions.create({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof OpenAI.InternalServerError && e.status === 500 && /requires more system memory/.test(e.message),
  );
  await ctl.post('fail', { when: 'before', status: 503, error: 'server busy, please try again.  maximum pending requests exceeded', count: 1 });
  const busy = await fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'x' }] }) });
  assert.equal(busy.status, 503);
  assert.equal((await busy.json()).error.message, 'server busy, please try again.  maximum pending requests exceeded');
});

test('errors: a native error line mid-stream becomes an SSE error event', async () => {
  await ctl.post('fail', { when: 'mid', status: 500, error: 'an error was encountered while running the model: boom', count: 1 });
  const r = await fetch(`${kw.url}/v1/chat/completions`, {
    method: 'POST',
    body: JSON.stringify({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'x' }], stream: true }),
  });
  assert.equal(r.status, 200);
  const events = await readSSE(r);
  const last = events[events.length - 1];
  assert.ok(last.error, `last event is an error: ${JSON.stringify(events)}`);
  assert.match(last.error.message, /boom/);
  assert.ok(!events.includes('[DONE]'));
  assert.ok(events.length >= 2, 'content chunks came before the error');
  // The SDK surfaces it as an error too.
  await ctl.post('fail', { when: 'mid', status: 500, error: 'boom again', count: 1 });
  const stream = await client.chat.completions.create({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'x' }], stream: true });
  await assert.rejects((async () => { for await (const _ of stream) { /* drain */ } })(), /boom again/);
});

test('native passthrough keeps Ollama error status and body', async () => {
  const r = await fetch(`${kw.url}/api/chat`, { method: 'POST', body: JSON.stringify({ model: 'nope', messages: [] }) });
  assert.equal(r.status, 404);
  assert.deepEqual(await r.json(), { error: "model 'nope' not found" });
  const bad = await fetch(`${kw.url}/api/chat`, { method: 'POST', body: '{bad' });
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).error, /invalid JSON/);
  const empty = await fetch(`${kw.url}/api/generate`, { method: 'POST' });
  assert.equal(empty.status, 400);
  assert.deepEqual(await empty.json(), { error: 'missing request body' });
});

test('unknown routes: another /v1 path gets Ollama\'s answer, keepwarm\'s own refusals the OpenAI envelope', async () => {
  // passed through (v1-fidelity.test.js): the stand-in answers as gin does
  const a = await fetch(`${kw.url}/v1/nothing`);
  assert.equal(a.status, 404);
  assert.equal(await a.text(), '404 page not found');
  const s = await fetch(`${kw.url}/v1/chat/completions/`, { method: 'POST', body: '{}' });
  assert.equal(s.status, 404);
  assert.equal((await s.json()).error.type, 'not_found_error');
  const b = await fetch(`${kw.url}/v1/chat/completions`);
  assert.equal(b.status, 405);
  const h = await fetch(`${kw.url}/healthz`);
  assert.equal(h.status, 200);
});
