// Fidelity items found by real clients (issue 14): response ids unique within a process,
// every other /v1/ path passed through to Ollama (with keepwarm's access rules), embedding
// numbers written as Ollama wrote them, and token counts for the native /api/chat and
// /api/generate in the access log and keepwarm_tokens_total.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startFake, startKeepwarm, FakeControl, readSSE, metric } from './harness.js';

let fake, kw, ctl;

before(async () => {
  fake = await startFake();
  ctl = new FakeControl(fake);
  kw = await startKeepwarm(fake.url, ['--log-level', 'info']);
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

const post = (path, body, headers = {}) => fetch(`${kw.url}${path}`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json', ...headers },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

// Ollama's layer made ids "chatcmpl-" + rand.Intn(999): 200 answers repeat one almost surely
// (the birthday bound gives a repeat in 999 after about 40).
test('ids: chat and completion ids never repeat within the process, prefixes kept', async () => {
  const seen = new Set();
  const n = 100;
  for (let i = 0; i < n; i++) {
    const stream = i % 2 === 1;
    const r = await post('/v1/chat/completions', {
      model: 'llama3.2:3b', messages: [{ role: 'user', content: 'hi' }], stream,
    });
    assert.equal(r.status, 200);
    const id = stream ? (await readSSE(r))[0].id : (await r.json()).id;
    assert.match(id, /^chatcmpl-\d{1,20}$/);
    seen.add(id);
    const c = await post('/v1/completions', { model: 'llama3.2:3b', prompt: 'hi', stream });
    assert.equal(c.status, 200);
    const cid = stream ? (await readSSE(c))[0].id : (await c.json()).id;
    assert.match(cid, /^cmpl-\d{1,20}$/);
    seen.add(cid.replace(/^cmpl-/, 'chatcmpl-')); // one counter serves every kind
  }
  assert.equal(seen.size, 2 * n, 'no id repeated');
});
