// Requests that would defeat keepwarm's own policy (issue 12): JSON keys that Ollama's Go
// decoder folds onto "keep_alive", "options" or "model" (case variants, U+212A KELVIN SIGN for
// k, U+017F LONG S for s, raw or \u-escaped), and model names that are aliases of a configured
// one. The stand-in's request log shows what reached "Ollama".
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFake, startKeepwarm, FakeControl, until, sleep, stopAll, iniFile as ini } from './harness.js';

const procs = [];
after(() => stopAll(procs));

async function start(conf, fakeArgs = []) {
  const fake = await startFake(fakeArgs);
  procs.push(fake);
  const kw = await startKeepwarm(fake.url, conf ? ['-c', ini(conf)] : []);
  procs.push(kw);
  return { fake, kw, ctl: new FakeControl(fake) };
}

// body: the exact request text (built by hand, so that keys keep their spelling and escapes).
const post = (kw, p, body) => fetch(`${kw.url}${p}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });

const KELVIN = '\u212A';
const LONG_S = '\u017F';
const MSG = '"messages":[{"role":"user","content":"hi"}]';

test('a key Go folds onto keep_alive, options or model is refused on /api and never reaches Ollama; other keys pass', async () => {
  const { kw, ctl } = await start('[model "llama3.2:3b"]\nnum_ctx = 8192\n');
  const cases = [
    ['/api/generate', '{"model":"llama3.2:3b","prompt":"hi","stream":false,"KEEP_ALIVE":0}', 'KEEP_ALIVE', 'keep_alive'],
    ['/api/generate', '{"model":"llama3.2:3b","prompt":"hi","stream":false,"keep_alive":"5m","Keep_Alive":0}', 'Keep_Alive', 'keep_alive'],
    ['/api/chat', `{"model":"llama3.2:3b",${MSG},"stream":false,"Options":{"num_ctx":131072}}`, 'Options', 'options'],
    ['/api/chat', `{"model":"llama3.2:3b",${MSG},"stream":false,"Model":"qwen3:8b"}`, 'Model', 'model'],
    ['/api/chat', `{"Model":"qwen3:8b","model":"llama3.2:3b",${MSG},"stream":false}`, 'Model', 'model'],
    // U+212A and U+017F raw (UTF-8) and as JSON escapes
    ['/api/generate', `{"model":"llama3.2:3b","prompt":"hi","stream":false,"${KELVIN}eep_alive":0}`, '\\u212Aeep_alive', 'keep_alive'],
    ['/api/generate', '{"model":"llama3.2:3b","prompt":"hi","stream":false,"\\u212Aeep_alive":0}', '\\u212Aeep_alive', 'keep_alive'],
    ['/api/chat', `{"model":"llama3.2:3b",${MSG},"stream":false,"option${LONG_S}":{"num_ctx":131072}}`, 'option\\u017F', 'options'],
    ['/api/chat', `{"model":"llama3.2:3b",${MSG},"stream":false,"option\\u017f":{"num_ctx":131072}}`, 'option\\u017F', 'options'],
    ['/api/embed', '{"model":"nomic-embed-text","input":"hi","OPTIONS":{"num_ctx":131072}}', 'OPTIONS', 'options'],
    ['/api/embeddings', '{"model":"nomic-embed-text","prompt":"hi","MODEL":"qwen3:8b"}', 'MODEL', 'model'],
  ];
  for (const [p, body, key, canonical] of cases) {
    await ctl.reset();
    const r = await post(kw, p, body);
    assert.equal(r.status, 400, `${p} ${body}`);
    const j = await r.json();
    assert.equal(typeof j.error, 'string', 'the native error format');
    assert.ok(j.error.includes(`invalid key "${key}": Ollama reads it as "${canonical}"`), j.error);
    assert.deepEqual((await ctl.requests()).filter((q) => q.path === p), [], `${body} reached Ollama`);
  }

  // Not variants: exact keys, "keep-alive", other upper-case keys, option names (Ollama's
  // Options.FromMap matches them exactly) pass, with the policy applied.
  let r = await post(kw, '/api/generate', '{"model":"llama3.2:3b","prompt":"hi","stream":false,"keep-alive":0,"Raw":false,"options":{"NUM_CTX":1,"num_ctx":131072}}');
  assert.equal(r.status, 200, await r.clone().text());
  let up = await ctl.lastRequest('/api/generate');
  assert.equal(up.body.keep_alive, -1);
  assert.equal(up.body.options.num_ctx, 8192, 'the pinned num_ctx');
  assert.equal(up.body['keep-alive'], 0, 'not a variant: relayed as sent');
  r = await post(kw, '/v1/chat/completions', `{"model":"llama3.2:3b",${MSG},"User":"u","options":{"num_ctx":131072}}`);
  assert.equal(r.status, 200, await r.clone().text());
  up = await ctl.lastRequest('/api/chat');
  assert.equal(up.body.options.num_ctx, 8192);
  assert.equal(up.body.keep_alive, -1);
});

test('a key Go folds onto a field the /v1 translation reads or writes is refused in the OpenAI format', async () => {
  const { kw, ctl } = await start('[model "llama3.2:3b"]\nnum_ctx = 8192\n');
  const cases = [
    ['/v1/chat/completions', `{"model":"llama3.2:3b",${MSG},"KEEP_ALIVE":0}`, 'KEEP_ALIVE', '/api/chat'],
    ['/v1/chat/completions', `{"model":"llama3.2:3b",${MSG},"Model":"qwen3:8b"}`, 'Model', '/api/chat'],
    ['/v1/chat/completions', `{"model":"llama3.2:3b",${MSG},"Stream":true}`, 'Stream', '/api/chat'],
    ['/v1/completions', `{"model":"llama3.2:3b","prompt":"hi","${KELVIN}eep_alive":0}`, '\\u212Aeep_alive', '/api/generate'],
    ['/v1/embeddings', `{"model":"nomic-embed-text","input":"hi","option${LONG_S}":{"num_ctx":131072}}`, 'option\\u017F', '/api/embed'],
  ];
  for (const [p, body, key, native] of cases) {
    await ctl.reset();
    const r = await post(kw, p, body);
    assert.equal(r.status, 400, `${p} ${body}`);
    const j = await r.json();
    assert.equal(j.error.type, 'invalid_request_error');
    assert.ok(j.error.message.includes(`invalid key "${key}"`), j.error.message);
    assert.deepEqual((await ctl.requests()).filter((q) => q.path === native), [], `${body} reached Ollama`);
  }
});

test('aliases of a [model] name get its pinned options and keep_alive on /api and /v1', async () => {
  const { kw, ctl } = await start('[model "llama3.2:3b"]\nnum_ctx = 8192\nkeep_alive = 1h\n');
  // (":local" and surrounding white space are aliases too, unit-tested in test_modelname.c;
  // the stand-in resolves names as Ollama's ParseName does, without modelref's suffixes.)
  const names = ['library/llama3.2:3b', 'registry.ollama.ai/library/llama3.2:3b', 'LLAMA3.2:3B',
    'https://registry.ollama.ai/library/llama3.2:3b'];
  for (const model of names) {
    let r = await post(kw, '/api/generate', JSON.stringify({ model, prompt: 'hi', stream: false, options: { num_ctx: 131072 } }));
    assert.equal(r.status, 200, `${model}: ${await r.clone().text()}`);
    let up = await ctl.lastRequest('/api/generate');
    assert.equal(up.body.model, model, 'the name is relayed as the client wrote it');
    assert.equal(up.body.options?.num_ctx, 8192, `${model}: the pinned num_ctx`);
    assert.equal(up.body.keep_alive, 3600, `${model}: the model's keep_alive`);
    r = await post(kw, '/v1/chat/completions', JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }));
    assert.equal(r.status, 200, `${model}: ${await r.clone().text()}`);
    up = await ctl.lastRequest('/api/chat');
    assert.equal(up.body.options?.num_ctx, 8192, `${model} on /v1: the pinned num_ctx`);
  }
  // Another model, and another tag, are not this one.
  await post(kw, '/api/generate', JSON.stringify({ model: 'library/qwen3:8b', prompt: 'hi', stream: false }));
  assert.equal((await ctl.lastRequest('/api/generate')).body.options, undefined);
});

test('aliases of a [model] name share its max_concurrent counter', async () => {
  const { kw, ctl } = await start('[model "llama3.2:3b"]\nmax_concurrent = 1\n', ['--token-delay', '300']);
  const first = post(kw, '/api/generate', JSON.stringify({ model: 'llama3.2:3b', prompt: 'hi', stream: false }));
  // In flight once the stand-in has it (keepwarm counts it before relaying); its answer takes
  // several 300 ms tokens.
  await until(async () => (await ctl.requests()).some((q) => q.path === '/api/generate'), 'the first request upstream');
  for (const model of ['library/llama3.2:3b', 'registry.ollama.ai/library/llama3.2:3b', 'Llama3.2:3B']) {
    const r = await post(kw, '/api/generate', JSON.stringify({ model, prompt: 'hi', stream: false }));
    assert.equal(r.status, 429, `${model} while llama3.2:3b is in flight`);
    const v1 = await post(kw, '/v1/chat/completions', JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }] }));
    assert.equal(v1.status, 429, `${model} on /v1`);
  }
  assert.equal((await first).status, 200);
});

test('a pin written as an alias is the [model] of its canonical name, and Ollama\'s /api/ps name is the pin', async () => {
  const { kw, ctl } = await start('[keepwarm]\npin = registry.ollama.ai/library/llama3.2:3b\nping_interval = 100ms\n' +
    '[model "llama3.2:3b"]\nnum_ctx = 8192\n');
  await until(async () => (await fetch(`${kw.url}/readyz`)).status === 200, 'ready: /api/ps lists llama3.2:3b, the pin');
  const gen = (await ctl.requests()).filter((q) => q.path === '/api/generate');
  assert.equal(gen[0].body.model, 'registry.ollama.ai/library/llama3.2:3b');
  assert.deepEqual(gen[0].body.options, { num_ctx: 8192 }, 'the warm ping carries the pinned options');
  await sleep(500); // five rounds
  assert.equal((await ctl.stats()).loads['llama3.2:3b'], 1, 'loaded once: no round took it for missing');
});
