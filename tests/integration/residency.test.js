// Residency data (issue 16): [model "*"] defaults pin runner options for unconfigured models
// (no option reload across clients), option churn is counted and explained when nothing is
// pinned, injected runner crashes raise the per-model counters and the lower-num_ctx warning,
// and the history records an eviction and its repair. /status and /metrics carry all of it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startFake, startKeepwarm, FakeControl, until, sleep, metric, stopAll, iniFile as ini } from './harness.js';

const procs = [];
after(() => stopAll(procs));

const status = async (kw) => (await fetch(`${kw.url}/status`)).json();
const modelStatus = async (kw, name) => (await status(kw)).models.find((m) => m.name === name);
const generate = (kw, model, options, extra = {}) => fetch(`${kw.url}/api/generate`, {
  method: 'POST',
  body: JSON.stringify({ model, prompt: 'x', stream: false, ...(options ? { options } : {}), ...extra }),
});
const chat = (kw, model, body = {}) => fetch(`${kw.url}/v1/chat/completions`, {
  method: 'POST',
  body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }], ...body }),
});

test('[model "*"] pins num_ctx for an unconfigured model: clients with different values cause no reload', async () => {
  const fake = await startFake();
  procs.push(fake);
  const ctl = new FakeControl(fake);
  const conf = ini('[keepwarm]\nping_interval = 100ms\npin = llama3.2:3b\n[model "*"]\nnum_ctx = 8192\n' +
    '[model "qwen3:8b"]\nnum_batch = 128\n');
  const kw = await startKeepwarm(fake.url, ['-c', conf]);
  procs.push(kw);
  // The warm ping resolves the model the same way: it loads with the default's num_ctx.
  await until(async () => (await ctl.stats()).loads['llama3.2:3b'] === 1, 'preloaded');
  const ping = (await ctl.requests()).find((q) => q.path === '/api/generate');
  assert.deepEqual(ping.body.options, { num_ctx: 8192 });
  assert.equal(ping.body.prompt, undefined, 'a load-only ping');
  // Native and OpenAI clients, each sending its own num_ctx (or none).
  for (const ctx of [2048, 4096, undefined, 16384]) {
    assert.equal((await generate(kw, 'llama3.2:3b', ctx ? { num_ctx: ctx } : undefined)).status, 200);
    assert.equal((await chat(kw, 'llama3.2:3b', ctx ? { num_ctx: ctx } : {})).status, 200);
  }
  const gens = (await ctl.requests()).filter((q) => (q.path === '/api/generate' || q.path === '/api/chat') && q.body.prompt !== undefined || q.body?.messages);
  for (const q of gens) assert.equal(q.body.options.num_ctx, 8192, `${q.path} carries the default`);
  await sleep(300); // a few more warm rounds
  const stats = await ctl.stats();
  assert.equal(stats.loads['llama3.2:3b'], 1, 'loaded once: no option reload, by requests or pings');
  // A named section overrides key by key: its own num_batch, the default num_ctx.
  assert.equal((await generate(kw, 'qwen3:8b', { num_ctx: 1 })).status, 200);
  const q = (await ctl.requests()).filter((r) => r.body?.model === 'qwen3:8b').pop();
  assert.deepEqual(q.body.options, { num_ctx: 8192, num_batch: 128 });
  const st = await modelStatus(kw, 'llama3.2:3b');
  assert.deepEqual(st.churn, []);
  assert.equal(st.reload_causes.options, 0);
  assert.equal(await metric(kw, /keepwarm_option_churn_total\{model="llama3\.2:3b",option="num_ctx"\} (\d+)/), undefined);
  // SIGHUP applies a changed defaults section.
  fs.writeFileSync(conf, '[keepwarm]\nping_interval = 100ms\n[model "*"]\nnum_ctx = 4096\n');
  kw.child.kill('SIGHUP');
  await until(async () => kw.output.includes('configuration reloaded'), 'reloaded');
  assert.equal((await generate(kw, 'codellama:7b', { num_ctx: 1 })).status, 200);
  const c = (await ctl.requests()).filter((r) => r.body?.model === 'codellama:7b').pop();
  assert.deepEqual(c.body.options, { num_ctx: 4096 });
});

test('option churn is counted, warned about and shown when no pin applies', async () => {
  const fake = await startFake();
  procs.push(fake);
  const ctl = new FakeControl(fake);
  const kw = await startKeepwarm(fake.url, ['--ping-interval', '100ms']);
  procs.push(kw);
  // 2048 -> 8192 (fast path: splice) -> 8192 (no churn) -> default (jansson path: an OpenAI
  // body the fast path declines) -> 2048 (reqfast)
  assert.equal((await generate(kw, 'llama3.2:3b', { num_ctx: 2048 })).status, 200);
  assert.equal((await generate(kw, 'llama3.2:3b', { num_ctx: 8192, temperature: 0 })).status, 200);
  assert.equal((await generate(kw, 'llama3.2:3b', { num_ctx: 8192 })).status, 200);
  assert.equal((await chat(kw, 'llama3.2:3b', { tools: [{ type: 'function', function: { name: 'f', parameters: {} } }] })).status, 200);
  assert.equal((await chat(kw, 'llama3.2:3b', { num_ctx: 2048 })).status, 200);
  const stats = await ctl.stats();
  assert.equal(stats.loads['llama3.2:3b'], 4, 'Ollama reloaded at each change');
  const st = await modelStatus(kw, 'llama3.2:3b');
  assert.equal(st.churn.length, 1);
  assert.equal(st.churn[0].option, 'num_ctx');
  assert.equal(st.churn[0].count, 3);
  assert.deepEqual([...st.churn[0].values].sort(), ['2048', '8192', 'default']);
  assert.ok(st.churn[0].last_at > Date.now() / 1000 - 60);
  assert.equal(st.churn[0].fix, 'pin num_ctx = 8192');
  assert.equal(st.reload_causes.options, 3);
  assert.equal(await metric(kw, /keepwarm_option_churn_total\{model="llama3\.2:3b",option="num_ctx"\} (\d+)/), 3);
  const warnings = kw.output.split('\n').filter((l) => l.includes('clients send different runner options'));
  assert.equal(warnings.length, 1, 'one warning per model and option per hour');
  assert.match(warnings[0], /option=num_ctx values=2048,8192/);
  assert.match(warnings[0], /pin num_ctx = 8192 for this model/);
  const history = (await status(kw)).history.filter((h) => h.event === 'reload_options');
  assert.equal(history.length, 3);
  assert.equal(history[0].detail, 'num_ctx 2048 -> 8192');
  assert.equal(history[0].model, 'llama3.2:3b');
  assert.ok(history[0].at > Date.now() - 60000 && history[0].at <= Date.now(), 'milliseconds');
});

test('repeated runner crashes are counted per model with the last text, and warned about at one num_ctx', async () => {
  const fake = await startFake();
  procs.push(fake);
  const ctl = new FakeControl(fake);
  const kw = await startKeepwarm(fake.url, ['--ping-interval', '100ms', '-c',
    ini('[keepwarm]\nretries = 0\n[model "llama3.2:3b"]\nnum_ctx = 32768\n')]);
  procs.push(kw);
  const text = 'llama runner process has terminated: GGML_ASSERT failed';
  for (let i = 0; i < 3; i++) {
    await ctl.post('fail', { when: 'before', status: 500, error: text, model: 'llama3.2:3b' });
    assert.equal((await generate(kw, 'llama3.2:3b')).status, 500);
  }
  await ctl.post('fail', { when: 'before', status: 400, error: 'the input length exceeds the context length', model: 'llama3.2:3b' });
  assert.equal((await chat(kw, 'llama3.2:3b')).status, 400);
  await ctl.post('fail', { when: 'mid', error: 'cudaMalloc failed: out of memory', model: 'llama3.2:3b' });
  const r = await chat(kw, 'llama3.2:3b', { stream: true });
  await r.text();
  let st = await modelStatus(kw, 'llama3.2:3b');
  assert.equal(st.failures.runner_crash, 3);
  assert.equal(st.failures.context_overflow, 1);
  assert.equal(st.failures.oom, 1);
  assert.match(st.failures.last_error, /cudaMalloc failed: out of memory/);
  // A native stream is passed through untouched; its error line is still read.
  await ctl.post('fail', { when: 'mid', error: 'failed to allocate compute buffers', model: 'llama3.2:3b' });
  const n = await fetch(`${kw.url}/api/generate`, { method: 'POST', body: JSON.stringify({ model: 'llama3.2:3b', prompt: 'x' }) });
  assert.match(await n.text(), /failed to allocate/);
  st = await modelStatus(kw, 'llama3.2:3b');
  assert.equal(st.failures.oom, 2);
  assert.match(st.failures.last_error, /^\{"error":"failed to allocate compute buffers"\}$/);
  assert.equal(st.failures.last_num_ctx, 32768);
  assert.equal(st.failures.hint, '3 crashes within an hour at num_ctx 32768: pin num_ctx = 16384');
  assert.ok(st.failures.last_at > Date.now() / 1000 - 60);
  assert.equal(await metric(kw, /keepwarm_model_failures_total\{model="llama3\.2:3b",kind="runner_crash"\} (\d+)/), 3);
  assert.equal(await metric(kw, /keepwarm_model_failures_total\{model="llama3\.2:3b",kind="oom"\} (\d+)/), 2);
  const warn = kw.output.split('\n').filter((l) => l.includes('keeps crashing at this num_ctx'));
  assert.equal(warn.length, 1);
  assert.match(warn[0], /crashes=3 within=1h num_ctx=32768 fix="pin num_ctx = 16384 for this model"/);
});

test('the history records an eviction and its repair, and a crash', async () => {
  const fake = await startFake();
  procs.push(fake);
  const ctl = new FakeControl(fake);
  const conf = ini('[keepwarm]\npin = llama3.2:3b\nping_interval = 150ms\n');
  const kw = await startKeepwarm(fake.url, ['-c', conf]);
  procs.push(kw);
  const events = async () => (await status(kw)).history.map((h) => `${h.model} ${h.event}`);
  await until(async () => (await events()).includes('llama3.2:3b loaded'), 'preload recorded');
  assert.equal((await modelStatus(kw, 'llama3.2:3b')).state, 'resident');
  await ctl.post('evict', { model: 'llama3.2:3b' });
  await until(async () => (await events()).includes('llama3.2:3b repaired'), 'repair recorded', 3000);
  const ev = await events();
  assert.deepEqual(ev.slice(ev.indexOf('llama3.2:3b loaded')),
    ['llama3.2:3b loaded', 'llama3.2:3b evicted', 'llama3.2:3b repaired']);
  // A crash under a request: the next round sees the model gone after a recorded crash.
  await ctl.post('crash', { model: 'llama3.2:3b' });
  assert.equal((await generate(kw, 'llama3.2:3b', undefined, { stream: false })).status >= 200, true);
  const st = await modelStatus(kw, 'llama3.2:3b');
  assert.equal(st.reload_causes.evicted, 1);
  assert.equal(st.reload_causes.crashed, 1);
  const crashed = (await status(kw)).history.filter((e) => e.event === 'crashed');
  assert.equal(crashed.length, 1);
  assert.match(crashed[0].detail, /llama runner process has terminated/);
  assert.equal(typeof st.in_flight, 'number');
  const h = (await status(kw)).history;
  assert.ok(h.length <= 50);
  for (let i = 1; i < h.length; i++) assert.ok(h[i].at >= h[i - 1].at, 'oldest first');
});

test('a model whose keep_alive ran out is recorded as expired, not evicted', async () => {
  const fake = await startFake();
  procs.push(fake);
  const kw = await startKeepwarm(fake.url, ['--ping-interval', '100ms', '--keep-alive', '1s']);
  procs.push(kw);
  assert.equal((await generate(kw, 'llama3.2:3b', { num_ctx: 2048 })).status, 200);
  const events = async () => (await status(kw)).history.filter((h) => h.model === 'llama3.2:3b').map((h) => h.event);
  await until(async () => (await events()).includes('loaded'), 'seen loaded in /api/ps');
  await until(async () => (await events()).includes('expired'), 'seen expired', 5000);
  const st = await modelStatus(kw, 'llama3.2:3b');
  assert.deepEqual(st.reload_causes, { options: 0, evicted: 0, crashed: 0, expired: 1 });
  assert.equal(st.state, 'evicted');
  // The next load is a new residency: a different num_ctx is no churn.
  assert.equal((await generate(kw, 'llama3.2:3b', { num_ctx: 4096 })).status, 200);
  assert.deepEqual((await modelStatus(kw, 'llama3.2:3b')).churn, []);
});

test('a name a client made up owns no residency data: a flood of them pushes out no real model and writes no failure', async () => {
  const fake = await startFake();
  procs.push(fake);
  const kw = await startKeepwarm(fake.url, ['--ping-interval', '100ms']);
  procs.push(kw);
  assert.equal((await generate(kw, 'llama3.2:3b', { num_ctx: 2048 })).status, 200);
  assert.equal((await generate(kw, 'llama3.2:3b', { num_ctx: 8192 })).status, 200);
  // More made-up names than the residency table holds, each with two different num_ctx; Ollama's
  // "not found" text quotes the name, which here reads as an out-of-memory failure.
  for (let i = 0; i < 140; i++) {
    const name = `erroroutofmemory-${i}`;
    assert.equal((await generate(kw, name, { num_ctx: 2048 })).status, 404);
    assert.equal((await generate(kw, name, { num_ctx: 8192 })).status, 404);
  }
  const st = await modelStatus(kw, 'llama3.2:3b');
  assert.equal(st.churn.length, 1, 'the real model keeps its churn');
  assert.equal(st.churn[0].count, 1);
  const history = (await status(kw)).history;
  assert.deepEqual(history.filter((h) => h.model.startsWith('erroroutofmemory')), []);
  assert.equal(history.filter((h) => h.event === 'reload_options' && h.model === 'llama3.2:3b').length, 1);
  const metrics = await (await fetch(`${kw.url}/metrics`)).text();
  assert.doesNotMatch(metrics, /erroroutofmemory/);
  assert.doesNotMatch(kw.output, /msg="model failed" model=erroroutofmemory/);
});
