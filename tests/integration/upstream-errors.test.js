// Upstream failures and policy variants, each with its own keepwarm instance.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import OpenAI from 'openai';
import { startFake, startKeepwarm, FakeControl, stopAll } from './harness.js';

const procs = [];
after(() => stopAll(procs));

async function closedPort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

const chat = { model: 'llama3.2:3b', messages: [{ role: 'user', content: 'x' }] };

test('upstream refused -> 502 in each endpoint format, and keepwarm keeps serving', async () => {
  const kw = await startKeepwarm(`http://127.0.0.1:${await closedPort()}`);
  procs.push(kw);
  const r = await fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify(chat) });
  assert.equal(r.status, 502);
  const j = await r.json();
  assert.equal(j.error.type, 'api_error');
  assert.match(j.error.message, /cannot reach Ollama/);
  const s = await fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ ...chat, stream: true }) });
  assert.equal(s.status, 502);
  const n = await fetch(`${kw.url}/api/tags`);
  assert.equal(n.status, 502);
  assert.match((await n.json()).error, /cannot reach Ollama/);
  const client = new OpenAI({ baseURL: `${kw.url}/v1`, apiKey: 'x', maxRetries: 0 });
  await assert.rejects(client.chat.completions.create(chat), (e) => e.status === 502);
  assert.equal((await fetch(`${kw.url}/healthz`)).status, 200);
});

test('upstream timeout -> 504', async () => {
  const fake = await startFake(['--load-delay', '3000']);
  procs.push(fake);
  const kw = await startKeepwarm(fake.url, [], { KEEPWARM_REQUEST_TIMEOUT: '300ms' });
  procs.push(kw);
  const r = await fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify(chat) });
  assert.equal(r.status, 504);
  const j = await r.json();
  assert.match(j.error.message, /did not answer in time/);
  const n = await fetch(`${kw.url}/api/chat`, { method: 'POST', body: JSON.stringify(chat) });
  assert.equal(n.status, 504);
  assert.match((await n.json()).error, /did not answer in time/);
});

test('keep_alive_policy default: a client value is honoured and normalised, ours fills the gap', async () => {
  const fake = await startFake();
  procs.push(fake);
  const ctl = new FakeControl(fake);
  const kw = await startKeepwarm(fake.url, ['--keep-alive', '10m', '--keep-alive-policy', 'default']);
  procs.push(kw);
  const post = (p, b) => fetch(`${kw.url}${p}`, { method: 'POST', body: JSON.stringify(b) });

  assert.equal((await post('/api/chat', { ...chat, stream: false })).status, 200);
  assert.equal((await ctl.lastRequest('/api/chat')).body.keep_alive, 600, 'ours when absent');

  assert.equal((await post('/api/chat', { ...chat, stream: false, keep_alive: '-1' })).status, 200);
  assert.equal((await ctl.lastRequest('/api/chat')).body.keep_alive, -1, '"-1" string normalised to -1');

  assert.equal((await post('/v1/chat/completions', { ...chat, keep_alive: '2h' })).status, 200);
  assert.equal((await ctl.lastRequest('/api/chat')).body.keep_alive, 7200, 'extra from an OpenAI body');

  const bad = await post('/api/chat', { ...chat, keep_alive: '1d' });
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).error, /time: unknown unit "d" in duration "1d"/);
  const badv1 = await post('/v1/chat/completions', { ...chat, keep_alive: true });
  assert.equal(badv1.status, 400);
  assert.match((await badv1.json()).error.message, /Unsupported type: 'bool'/);
});

test('keep_alive_policy override: a bad client keep_alive is replaced, not passed on', async () => {
  const fake = await startFake();
  procs.push(fake);
  const ctl = new FakeControl(fake);
  const kw = await startKeepwarm(fake.url, ['--keep-alive', '90s']);
  procs.push(kw);
  const r = await fetch(`${kw.url}/api/generate`, {
    method: 'POST', body: JSON.stringify({ model: 'llama3.2:3b', prompt: 'x', stream: false, keep_alive: '1d' }),
  });
  assert.equal(r.status, 200);
  assert.equal((await ctl.lastRequest('/api/generate')).body.keep_alive, 90);
  const sub = await startKeepwarm(fake.url, ['--keep-alive', '1500ms']);
  procs.push(sub);
  await fetch(`${sub.url}/api/generate`, { method: 'POST', body: JSON.stringify({ model: 'llama3.2:3b', stream: false }) });
  assert.equal((await ctl.lastRequest('/api/generate')).body.keep_alive, '1.5s', 'sub-second precision as a duration string');
});

test('request body over max_body_size -> 413, and the next request is served', async () => {
  const fake = await startFake();
  procs.push(fake);
  const kw = await startKeepwarm(fake.url, [], { KEEPWARM_MAX_BODY_SIZE: '1KiB' });
  procs.push(kw);
  const big = { ...chat, messages: [{ role: 'user', content: 'x'.repeat(4096) }] };
  const r = await fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify(big) });
  assert.equal(r.status, 413);
  const env = await r.json(); // in the OpenAI envelope, not evhttp's HTML page
  assert.match(env.error.message, /max_body_size/);
  const nat = await fetch(`${kw.url}/api/chat`, { method: 'POST', body: JSON.stringify(big) });
  assert.equal(nat.status, 413);
  assert.deepEqual(await nat.json(), { error: 'request body too large (max_body_size)' });
  const ok = await fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify(chat) });
  assert.equal(ok.status, 200);
});
