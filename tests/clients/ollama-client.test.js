// The `ollama` package pointed at keepwarm instead of Ollama: native clients get the same
// keep_alive and pinned-option injection as OpenAI clients, and everything else relays as is.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ollama } from 'ollama';
import { startFake, startKeepwarm, FakeControl, sleep } from '../integration/harness.js';

const KEEP_ALIVE_S = 45 * 60; // keepwarm's configured keep_alive (45m), as Ollama receives it
const PINNED_CTX = 8192;      // pinned num_ctx for llama3.2:3b

let fake, kw, ctl, ollama, dir;

before(async () => {
  fake = await startFake();
  ctl = new FakeControl(fake);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kw-ollama-client-'));
  const ini = path.join(dir, 'keepwarm.ini');
  fs.writeFileSync(ini, [
    '[keepwarm]',
    'keep_alive = 45m',
    `[model "llama3.2:3b"]`,
    `num_ctx = ${PINNED_CTX}`,
    '',
  ].join('\n'));
  kw = await startKeepwarm(fake.url, ['-c', ini]);
  ollama = new Ollama({ host: kw.url });
});

after(async () => {
  let code;
  try {
    code = await kw?.stop();
  } finally {
    await fake?.stop();
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(code, 0, `keepwarm exit code (output: ${kw?.output})`);
});

beforeEach(async () => { await ctl.reset(); });

const msgs = [{ role: 'user', content: 'Say hello' }];

test('chat, non-stream: answer relayed, keep_alive and pinned num_ctx injected upstream', async () => {
  const res = await ollama.chat({ model: 'llama3.2:3b', messages: msgs, options: { temperature: 0.4 } });
  assert.equal(res.model, 'llama3.2:3b');
  assert.equal(res.message.role, 'assistant');
  assert.equal(res.message.content, 'Hello from fake ollama.');
  assert.equal(res.done, true);
  assert.equal(res.done_reason, 'stop');
  assert.equal(res.eval_count, 5);

  const up = await ctl.lastRequest('/api/chat');
  assert.equal(up.body.keep_alive, KEEP_ALIVE_S, 'configured keep_alive injected');
  assert.equal(up.body.stream, false);
  assert.deepEqual(up.body.messages, msgs);
  assert.equal(up.body.options.num_ctx, PINNED_CTX, 'pinned runner option injected');
  assert.equal(up.body.options.temperature, 0.4, 'client options pass through');
});

test('chat, stream: NDJSON parts relayed; a client keep_alive is overridden', async () => {
  const parts = [];
  const stream = await ollama.chat({ model: 'llama3.2:3b', messages: msgs, stream: true, keep_alive: '5m' });
  for await (const p of stream) parts.push(p);
  assert.equal(parts.length, 6, '5 tokens and the done line');
  assert.equal(parts.map((p) => p.message.content).join(''), 'Hello from fake ollama.');
  assert.ok(parts.slice(0, -1).every((p) => p.done === false));
  assert.equal(parts[5].done, true);
  assert.equal(parts[5].done_reason, 'stop');

  const up = await ctl.lastRequest('/api/chat');
  assert.equal(up.body.stream, true);
  assert.equal(up.body.keep_alive, KEEP_ALIVE_S, "the client's 5m lost to keepwarm's policy (override)");
});

test('chat with tools: native tool calls relayed unchanged', async () => {
  await ctl.post('script', { tool_calls: [{ id: 'call_native1', function: { name: 'add', arguments: { a: 1, b: 2 } } }] });
  const tools = [{ type: 'function', function: { name: 'add', parameters: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } } } } }];
  const res = await ollama.chat({ model: 'llama3.2:3b', messages: [{ role: 'user', content: '1+2?' }], tools });
  assert.deepEqual(res.message.tool_calls, [{ id: 'call_native1', function: { index: 0, name: 'add', arguments: { a: 1, b: 2 } } }]);
  const up = await ctl.lastRequest('/api/chat');
  assert.deepEqual(up.body.tools, tools);
  assert.equal(up.body.keep_alive, KEEP_ALIVE_S);
});

test('generate, non-stream and stream, with injection on another model (global keep_alive, no pins)', async () => {
  const res = await ollama.generate({ model: 'llama3.2:3b', prompt: 'Once upon a time' });
  assert.equal(res.response, 'Hello from fake ollama.');
  assert.equal(res.done, true);
  assert.ok(Array.isArray(res.context) && res.context.length > 0);
  let up = await ctl.lastRequest('/api/generate');
  assert.equal(up.body.prompt, 'Once upon a time');
  assert.equal(up.body.keep_alive, KEEP_ALIVE_S);
  assert.equal(up.body.options.num_ctx, PINNED_CTX);

  const parts = [];
  for await (const p of await ollama.generate({ model: 'codellama:7b', prompt: 'def f(', stream: true })) parts.push(p);
  assert.equal(parts.map((p) => p.response).join(''), 'Hello from fake ollama.');
  assert.equal(parts[parts.length - 1].done, true);
  up = await ctl.lastRequest('/api/generate');
  assert.equal(up.body.model, 'codellama:7b');
  assert.equal(up.body.stream, true);
  assert.equal(up.body.keep_alive, KEEP_ALIVE_S);
  assert.equal(up.body.options?.num_ctx, undefined, 'no pinned options for an unpinned model');
});

test('generate, stream aborted by the client: the stand-in sees the generation cancelled', async () => {
  await ctl.post('config', { token_delay_ms: 40 });
  await ctl.post('script', { content: Array.from({ length: 200 }, (_, i) => ` t${i}`) });
  const stream = await ollama.generate({ model: 'llama3.2:3b', prompt: 'go on', stream: true });
  let n = 0;
  await assert.rejects((async () => {
    for await (const p of stream) {
      assert.equal(p.done, false);
      if (++n === 2) stream.abort();
    }
  })(), (e) => e?.name === 'AbortError');
  assert.equal(n, 2);
  const start = Date.now();
  for (;;) {
    const s = await ctl.stats();
    if (s.cancelled === 1 && s.in_flight === 0) break;
    assert.ok(Date.now() - start < 500, `cancelled within 500 ms: ${JSON.stringify(s)}`);
    await sleep(10);
  }
  assert.equal((await ctl.stats()).completed, 0);
});

test('generate, mid-stream failure: the native error line reaches the client', async () => {
  await ctl.post('fail', { when: 'mid', error: 'an error was encountered while running the model: boom' });
  const parts = [];
  await assert.rejects((async () => {
    for await (const p of await ollama.generate({ model: 'llama3.2:3b', prompt: 'x', stream: true })) parts.push(p);
  })(), /an error was encountered while running the model: boom/);
  assert.equal(parts.map((p) => p.response).join(''), 'Hello from');
});

test('embed: vectors relayed, keep_alive injected', async () => {
  const input = ['first text', 'second text'];
  const res = await ollama.embed({ model: 'nomic-embed-text', input });
  assert.equal(res.model, 'nomic-embed-text');
  assert.equal(res.embeddings.length, 2);
  const direct = await (await fetch(`${fake.url}/api/embed`, {
    method: 'POST', body: JSON.stringify({ model: 'nomic-embed-text', input }),
  })).json();
  assert.deepEqual(res.embeddings, direct.embeddings, 'the same vectors as Ollama itself returns');
  const up = (await ctl.requests()).filter((q) => q.path === '/api/embed')[0];
  assert.deepEqual(up.body.input, input);
  assert.equal(up.body.keep_alive, KEEP_ALIVE_S);

  const legacy = await ollama.embeddings({ model: 'nomic-embed-text', prompt: 'first text' });
  // The legacy endpoint prints float64s (as Ollama does): the same vector in float32.
  assert.deepEqual(legacy.embedding.map(Math.fround), direct.embeddings[0].map(Math.fround));
  assert.equal((await ctl.lastRequest('/api/embeddings')).body.keep_alive, KEEP_ALIVE_S);
});

test('ps: the model is resident with the injected keep_alive and the pinned num_ctx', async () => {
  assert.deepEqual((await ollama.ps()).models, [], 'nothing loaded after reset');
  const before = Date.now();
  await ollama.chat({ model: 'llama3.2:3b', messages: msgs, keep_alive: '1s' });
  const ps = await ollama.ps();
  assert.equal(ps.models.length, 1);
  const m = ps.models[0];
  assert.equal(m.name, 'llama3.2:3b');
  assert.equal(m.context_length, PINNED_CTX, 'the runner was loaded with the pinned num_ctx');
  const expires = new Date(m.expires_at).getTime();
  const ahead = (expires - before) / 1000;
  assert.ok(ahead > KEEP_ALIVE_S - 60 && ahead <= KEEP_ALIVE_S + 60,
    `expires ~45m ahead (the client asked for 1s): ${m.expires_at}`);
  assert.ok(await ctl.lastRequest('/api/ps'));
});

test('list (tags) and show relay untouched', async () => {
  const tags = await ollama.list();
  assert.deepEqual(tags.models.map((m) => m.name), ['llama3.2:3b', 'qwen3:8b', 'nomic-embed-text:latest', 'codellama:7b']);
  const direct = await (await fetch(`${fake.url}/api/tags`)).json();
  assert.deepEqual(tags, direct, 'byte-for-byte the same answer as Ollama gives');

  const show = await ollama.show({ model: 'qwen3:8b' });
  assert.ok(show.capabilities.includes('thinking'));
  assert.equal(show.details.family, 'qwen');
  const up = await ctl.lastRequest('/api/show');
  assert.deepEqual(up.body, { model: 'qwen3:8b' }, 'show is not injected');
});

test('errors keep Ollama status and text: ResponseError', async () => {
  await assert.rejects(ollama.chat({ model: 'nope:1b', messages: msgs }), (e) => {
    assert.equal(e.name, 'ResponseError');
    assert.equal(e.status_code, 404);
    assert.equal(e.error, "model 'nope:1b' not found");
    return true;
  });
  await assert.rejects(ollama.generate({ model: 'nomic-embed-text', prompt: 'x' }), (e) => {
    assert.equal(e.status_code, 400);
    assert.match(e.error, /does not support generate/);
    return true;
  });
  await assert.rejects(ollama.show({ model: 'nope:1b' }), (e) => e.status_code === 404);
});
