// The warm loop against the stand-in: preload with pinned options, no reload caused by
// keepwarm, repairs after eviction, crash and restart, readiness, thrashing, retries and the
// waiting comments.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFake, startKeepwarm, FakeControl, sleep, until, metric, stopAll, iniFile as ini } from './harness.js';

const procs = [];
after(() => stopAll(procs));


const loadedNames = async (ctl) => {
  const ps = await (await fetch(`${ctl.base}/api/ps`)).json();
  return ps.models.map((m) => m.name);
};
const status = async (kw) => (await fetch(`${kw.url}/status`)).json();
const modelStatus = async (kw, name) => (await status(kw)).models.find((m) => m.name === name);

test('preload with pinned options; traffic and many rounds cause no reload', async () => {
  const fake = await startFake(['--keep-alive', '2s']);
  procs.push(fake);
  const ctl = new FakeControl(fake);
  const conf = ini('[keepwarm]\npin = llama3.2:3b, nomic-embed-text\nping_interval = 100ms\n' +
    '[model "llama3.2:3b"]\nnum_ctx = 8192\nnum_batch = 256\n');
  const kw = await startKeepwarm(fake.url, ['-c', conf]);
  procs.push(kw);

  await until(async () => (await loadedNames(ctl)).length === 2, 'both pinned models loaded');
  const reqs = await ctl.requests();
  const gen = reqs.find((q) => q.path === '/api/generate' && q.body.model === 'llama3.2:3b');
  assert.equal(gen.body.keep_alive, -1);
  assert.deepEqual(gen.body.options, { num_ctx: 8192, num_batch: 256 });
  assert.equal(gen.body.prompt, undefined, 'a load-only request');
  const emb = reqs.find((q) => q.path === '/api/embed' && q.body.model === 'nomic-embed-text');
  assert.ok(emb, 'the embedding model is loaded with /api/embed');

  // Traffic through every path, then ten more rounds.
  for (let i = 0; i < 3; i++) {
    await fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'x' }] }) });
    await fetch(`${kw.url}/api/generate`, { method: 'POST', body: JSON.stringify({ model: 'llama3.2:3b', prompt: 'x', stream: false, options: { num_ctx: 1024 } }) });
    await fetch(`${kw.url}/v1/embeddings`, { method: 'POST', body: JSON.stringify({ model: 'nomic-embed-text', input: 'x' }) });
  }
  await sleep(1000);
  const stats = await ctl.stats();
  assert.equal(stats.loads['llama3.2:3b'], 1, 'loaded once, never reloaded for options');
  assert.equal(stats.loads['nomic-embed-text:latest'] ?? stats.loads['nomic-embed-text'], 1);
  const ps = await (await fetch(`${ctl.base}/api/ps`)).json();
  const llama = ps.models.find((m) => m.name === 'llama3.2:3b');
  assert.ok(new Date(llama.expires_at).getTime() > Date.now() + 20 * 365 * 86400e3, 'forever');

  const ready = await fetch(`${kw.url}/readyz`);
  assert.equal(ready.status, 200);
  const st = await modelStatus(kw, 'llama3.2:3b');
  assert.equal(st.loaded, true);
  assert.equal(st.expires_forever, true);
  assert.equal(st.fully_on_gpu, true);
  assert.equal(st.reloads, 0);
  assert.equal(await metric(kw, /keepwarm_model_loaded\{model="llama3\.2:3b",pinned="1"\} (\d+)/), 1);
  assert.equal(await metric(kw, /keepwarm_upstream_up (\d+)/), 1);
});

test('eviction and a crashed runner are repaired within one interval, with the same options', async () => {
  const fake = await startFake();
  procs.push(fake);
  const ctl = new FakeControl(fake);
  const conf = ini('[keepwarm]\npin = llama3.2:3b\nping_interval = 200ms\n[model "llama3.2:3b"]\nnum_ctx = 4096\n');
  const kw = await startKeepwarm(fake.url, ['-c', conf]);
  procs.push(kw);
  await until(async () => (await loadedNames(ctl)).includes('llama3.2:3b'), 'preload');

  const seen0 = (await ctl.requests()).length;
  await ctl.post('evict', { model: 'llama3.2:3b' });
  // Within one interval, counted in the warm loop's rounds rather than milliseconds (a busy
  // machine stretches the clock, not the loop): the round that finds the model gone loads it,
  // so at most two /api/ps (one that may have been under way at the eviction) precede the load.
  // (Waiting on the stand-in's log, not its /api/ps, so that every /api/ps logged is keepwarm's.)
  const isLoad = (q) => q.path === '/api/generate' && q.body.model === 'llama3.2:3b';
  await until(async () => (await ctl.requests()).slice(seen0).some(isLoad), 'repair after eviction', 5000);
  const after = (await ctl.requests()).slice(seen0);
  const loadAt = after.findIndex(isLoad);
  assert.ok((await loadedNames(ctl)).includes('llama3.2:3b'), 'loaded again');
  const rounds = after.slice(0, loadAt).filter((q) => q.path === '/api/ps').length;
  assert.ok(rounds <= 2, `repaired within about one interval (${rounds} rounds before the load)`);
  await until(async () => (await modelStatus(kw, 'llama3.2:3b')).reloads === 1, 'reload counted');
  assert.equal(await metric(kw, /keepwarm_model_reloads_total\{model="llama3\.2:3b"\} (\d+)/), 1);
  const last = (await ctl.requests()).filter((q) => q.path === '/api/generate').pop();
  assert.deepEqual(last.body.options, { num_ctx: 4096 });

  await ctl.post('crash', { model: 'llama3.2:3b' });
  await until(async () => (await modelStatus(kw, 'llama3.2:3b')).reloads === 2, 'repair after crash', 3000);
  assert.ok((await loadedNames(ctl)).includes('llama3.2:3b'));
});

test('Ollama killed and restarted: readiness 503 then 200, models reloaded', async () => {
  let fake = await startFake();
  procs.push(fake); // stopped below; by the after hook if a check fails first
  const port = fake.port;
  const kw = await startKeepwarm(fake.url, ['--pin', 'llama3.2:3b', '--ping-interval', '200ms']);
  procs.push(kw);
  await until(async () => (await fetch(`${kw.url}/readyz`)).status === 200, 'ready');
  await fake.stop();
  const down = await fetch(`${kw.url}/readyz`);
  assert.equal(down.status, 503);
  const body = await down.json();
  assert.equal(body.ready, false);
  assert.match(body.reason, /unreachable/);
  assert.deepEqual(body.missing, ['llama3.2:3b']);
  await until(async () => (await metric(kw, /keepwarm_upstream_up (\d+)/)) === 0, 'upstream down gauge');

  fake = await startFake(['--listen', `127.0.0.1:${port}`]);
  procs.push(fake);
  await until(async () => (await fetch(`${kw.url}/readyz`)).status === 200, 'ready again', 5000);
  const ctl = new FakeControl(fake);
  assert.ok((await loadedNames(ctl)).includes('llama3.2:3b'));
  // One log line per state change, not one per attempt.
  assert.equal((kw.output.match(/Ollama is down/g) || []).length, 1);
  assert.equal((kw.output.match(/Ollama is up/g) || []).length, 2);
});

test('readiness names the pinned model that is missing', async () => {
  const fake = await startFake(['--load-delay', '800']);
  procs.push(fake);
  const kw = await startKeepwarm(fake.url, ['--pin', 'qwen3:8b', '--ping-interval', '5s']);
  procs.push(kw);
  const r = await fetch(`${kw.url}/readyz`);
  assert.equal(r.status, 503);
  const j = await r.json();
  assert.deepEqual(j.missing, ['qwen3:8b']);
  assert.match(j.reason, /not loaded/);
  await until(async () => (await fetch(`${kw.url}/readyz`)).status === 200, 'loaded after the slow load');
});

test('thrashing: two pinned models and a one-model limit are reported and slowed down', async () => {
  const fake = await startFake(['--max-loaded', '1']);
  procs.push(fake);
  const ctl = new FakeControl(fake);
  const kw = await startKeepwarm(fake.url, ['--pin', 'llama3.2:3b', '--pin', 'qwen3:8b', '--ping-interval', '100ms']);
  procs.push(kw);
  await until(async () => (await status(kw)).thrashing === true, 'thrashing reported', 5000);
  assert.match(kw.output, /keep evicting each other/);
  assert.equal(await metric(kw, /keepwarm_thrashing (\d+)/), 1);
  // Slowed down: at most one load per 4 intervals from now on (allowing one in flight).
  const before = (await ctl.stats()).total_loads;
  await sleep(1000);
  const after = (await ctl.stats()).total_loads;
  assert.ok(after - before <= 4, `loads in 1s while thrashing: ${after - before}`);
});

test('a request that meets a crashed runner is retried once and succeeds', async () => {
  const fake = await startFake();
  procs.push(fake);
  const ctl = new FakeControl(fake);
  const kw = await startKeepwarm(fake.url);
  procs.push(kw);
  await ctl.post('fail', { when: 'before', status: 500, error: 'llama runner process has terminated: exit status 2', count: 1 });
  const r = await fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'x' }] }) });
  assert.equal(r.status, 200);
  assert.equal((await r.json()).choices[0].message.content, 'Hello from fake ollama.');
  assert.equal(await metric(kw, /keepwarm_retries_total (\d+)/), 1);

  await ctl.post('fail', { when: 'before', status: 500, error: 'model runner has unexpectedly stopped, this may be due to resource limitations', count: 1 });
  const n = await fetch(`${kw.url}/api/chat`, { method: 'POST', body: JSON.stringify({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'x' }], stream: false }) });
  assert.equal(n.status, 200, 'native requests are retried too');

  // Twice in a row: the second failure reaches the client, with Ollama's status and text.
  await ctl.post('fail', { when: 'before', status: 500, error: 'llama runner process has terminated: signal: killed', count: 2 });
  const f = await fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'x' }] }) });
  assert.equal(f.status, 500);
  assert.match((await f.json()).error.message, /signal: killed/);
  assert.equal(await metric(kw, /keepwarm_retries_total (\d+)/), 3);

  // Other 500s are not retried.
  await ctl.post('fail', { when: 'before', status: 500, error: 'something else', count: 1 });
  const o = await fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'x' }] }) });
  assert.equal(o.status, 500);
  assert.equal(await metric(kw, /keepwarm_retries_total (\d+)/), 3);
});

test('context overflow maps to context_length_exceeded and is counted', async () => {
  const fake = await startFake();
  procs.push(fake);
  const ctl = new FakeControl(fake);
  const conf = ini('[model "llama3.2:3b"]\nnum_ctx = 2048\n');
  const kw = await startKeepwarm(fake.url, ['-c', conf]);
  procs.push(kw);
  await ctl.post('fail', { when: 'before', status: 400, error: 'the prompt is longer than the context length currently available to the model; shorten the prompt', count: 1 });
  const r = await fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'x' }] }) });
  assert.equal(r.status, 400);
  const j = await r.json();
  assert.equal(j.error.code, 'context_length_exceeded');
  assert.equal(j.error.type, 'invalid_request_error');
  assert.equal(await metric(kw, /keepwarm_upstream_errors_total\{kind="context_overflow"\} (\d+)/), 1);
  assert.match(kw.output, /context length exceeded.*pinned_num_ctx=2048/);
});

test('waiting comments keep a streaming client company during a slow load', async () => {
  const fake = await startFake(['--load-delay', '1200']);
  procs.push(fake);
  const kw = await startKeepwarm(fake.url, [], { KEEPWARM_WAIT_COMMENT_INTERVAL: '300ms' });
  procs.push(kw);
  const r = await fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'x' }], stream: true }) });
  assert.equal(r.status, 200);
  const text = await r.text();
  const comments = text.split('\n\n').filter((b) => b.startsWith(': waiting for model'));
  assert.ok(comments.length >= 2, `comments: ${comments.length}`);
  assert.ok(text.indexOf(': waiting') < text.indexOf('data: '), 'comments come before the first chunk');
  assert.match(text, /data: \[DONE\]/);

  // An error after the comments arrives as an SSE error event (the status is already 200).
  const slow = await startKeepwarm(fake.url, [], { KEEPWARM_WAIT_COMMENT_INTERVAL: '200ms', KEEPWARM_REQUEST_TIMEOUT: '700ms' });
  procs.push(slow);
  const e = await fetch(`${slow.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'qwen3:8b', messages: [{ role: 'user', content: 'x' }], stream: true }) });
  assert.equal(e.status, 200);
  const et = await e.text();
  assert.match(et, /^: waiting for model/);
  assert.match(et, /data: \{"error":\{"message":"Ollama at [^"]* did not answer in time/);
  assert.doesNotMatch(et, /\[DONE\]/);
});

test('pin_requested keeps warm the models clients use, up to max_pinned', async () => {
  const fake = await startFake();
  procs.push(fake);
  const ctl = new FakeControl(fake);
  const conf = ini('[keepwarm]\npin_requested = yes\nmax_pinned = 1\nping_interval = 100ms\n');
  const kw = await startKeepwarm(fake.url, ['-c', conf]);
  procs.push(kw);
  await fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'x' }] }) });
  await fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'qwen3:8b', messages: [{ role: 'user', content: 'x' }] }) });
  const st = await status(kw);
  assert.equal(st.models.find((m) => m.name === 'llama3.2:3b').requested, true);
  assert.equal(st.models.find((m) => m.name === 'qwen3:8b').requested, false, 'max_pinned reached');
  await ctl.post('evict', { model: 'llama3.2:3b' });
  await until(async () => (await loadedNames(ctl)).includes('llama3.2:3b'), 'requested model repaired');
});
