// keepwarm_fastpath_total{path,result}: every fast path counts its tries where it is tried, a
// common request as hits and an unusual one as declines (proxy/fast/README.md).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFake, startKeepwarm, readSSE } from './harness.js';

let fake, kw;

before(async () => {
  fake = await startFake();
  kw = await startKeepwarm(fake.url, ['--keep-alive', '-1']);
});
after(async () => {
  try {
    await kw?.stop();
  } finally {
    await fake?.stop();
  }
});

const PATHS = ['request_chat', 'request_completion', 'request_native', 'stream_token', 'stream_done', 'answer',
  'responses_token', 'messages_token'];

// Every keepwarm_fastpath_total sample, as { 'path/result': n }.
async function counters() {
  const text = await (await fetch(`${kw.url}/metrics`)).text();
  const out = {};
  for (const m of text.matchAll(/^keepwarm_fastpath_total\{path="([a-z_]+)",result="(hit|decline)"\} (\d+)$/gm))
    out[`${m[1]}/${m[2]}`] = Number(m[3]);
  return out;
}

// What a request moved: only the counters that changed.
async function moved(fn) {
  const before = await counters();
  await fn();
  const after = await counters();
  const delta = {};
  for (const k of Object.keys(after)) if (after[k] !== before[k]) delta[k] = after[k] - before[k];
  return delta;
}

function post(path, body) {
  return fetch(`${kw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function ok(res) {
  assert.equal(res.status, 200, await res.clone().text());
  return res;
}

const hello = [{ role: 'user', content: 'hi' }];

test('every path and result is exported, from zero, with HELP and TYPE', async () => {
  const text = await (await fetch(`${kw.url}/metrics`)).text();
  assert.match(text, /^# HELP keepwarm_fastpath_total /m);
  assert.match(text, /^# TYPE keepwarm_fastpath_total counter$/m);
  const c = await counters();
  for (const p of PATHS) for (const r of ['hit', 'decline']) assert.equal(c[`${p}/${r}`], 0, `${p}/${r}`);
  assert.equal(Object.keys(c).length, PATHS.length * 2);
});

test('a /v1/messages stream: its first line (message_start, the block start) declines, each later token line is a hit', async () => {
  const d = await moved(async () => {
    const res = await ok(await post('/v1/messages', { model: 'llama3.2:3b', max_tokens: 64, stream: true, messages: hello }));
    assert.match(await res.text(), /event: message_stop/);
  });
  assert.deepEqual(d, { 'messages_token/hit': 4, 'messages_token/decline': 1 });
});

test('a common chat request and its answer are hits', async () => {
  const d = await moved(async () => {
    const res = await ok(await post('/v1/chat/completions', { model: 'llama3.2:3b', messages: hello }));
    assert.equal((await res.json()).choices[0].message.content, 'Hello from fake ollama.');
  });
  assert.deepEqual(d, { 'request_chat/hit': 1, 'answer/hit': 1 });
});

test('a common chat stream: one hit per token line and one for the done line', async () => {
  let events;
  const d = await moved(async () => {
    const res = await ok(await post('/v1/chat/completions', { model: 'llama3.2:3b', messages: hello, stream: true }));
    events = await readSSE(res);
  });
  assert.equal(events.at(-1), '[DONE]');
  assert.deepEqual(d, { 'request_chat/hit': 1, 'stream_token/hit': 5, 'stream_done/hit': 1 });
});

test('a key with a unicode escape makes the request fast path decline; the answer is the same', async () => {
  let text;
  const d = await moved(async () => {
    const res = await ok(await post('/v1/chat/completions',
      '{"mod\\u0065l":"llama3.2:3b","messages":[{"role":"user","content":"hi"}]}'));
    text = (await res.json()).choices[0].message.content;
  });
  assert.equal(text, 'Hello from fake ollama.');
  assert.deepEqual(d, { 'request_chat/decline': 1, 'answer/hit': 1 });
});

test('a top-level member the translators do not know makes reqfast decline (fails closed)', async () => {
  const d = await moved(async () => {
    await ok(await post('/v1/chat/completions', { model: 'llama3.2:3b', messages: hello, user: 'someone' }));
  });
  assert.deepEqual(d, { 'request_chat/decline': 1, 'answer/hit': 1 });
});

test('thinking lines are declined by the token fast path, content lines still hit', async () => {
  let events;
  const d = await moved(async () => {
    const res = await ok(await post('/v1/chat/completions', { model: 'qwen3:8b', messages: hello, stream: true }));
    events = await readSSE(res);
  });
  const reasoning = events.filter((e) => e !== '[DONE]' && e.choices?.[0]?.delta?.reasoning);
  assert.equal(reasoning.length, 2, JSON.stringify(events));
  assert.deepEqual(d, {
    'request_chat/hit': 1, 'stream_token/decline': 2, 'stream_token/hit': 5, 'stream_done/hit': 1,
  });
});

test('completions: request, answer and the done line count; token lines have no fast path', async () => {
  let d = await moved(async () => {
    await ok(await post('/v1/completions', { model: 'llama3.2:3b', prompt: 'hi' }));
  });
  assert.deepEqual(d, { 'request_completion/hit': 1, 'answer/hit': 1 });
  d = await moved(async () => {
    await readSSE(await ok(await post('/v1/completions', { model: 'llama3.2:3b', prompt: 'hi', stream: true })));
  });
  assert.deepEqual(d, { 'request_completion/hit': 1, 'stream_done/hit': 1 });
});

test('an answer with thinking in its message is declined by the answer fast path', async () => {
  let message;
  const d = await moved(async () => {
    const res = await ok(await post('/v1/chat/completions', { model: 'qwen3:8b', messages: hello }));
    message = (await res.json()).choices[0].message;
  });
  assert.equal(message.content, 'Hello from fake ollama.');
  assert.ok(message.reasoning, JSON.stringify(message));
  assert.deepEqual(d, { 'request_chat/hit': 1, 'answer/decline': 1 });
});

test('native injection: a plain body is a hit, an escaped key a decline', async () => {
  let d = await moved(async () => {
    await ok(await post('/api/generate', { model: 'llama3.2:3b', prompt: 'hi', stream: false }));
  });
  assert.deepEqual(d, { 'request_native/hit': 1 });
  d = await moved(async () => {
    await ok(await post('/api/generate', '{"model":"llama3.2:3b","prompt":"hi","str\\u0065am":false}'));
  });
  assert.deepEqual(d, { 'request_native/decline': 1 });
});

test('a /v1/responses stream: token lines in open items by the fast path, the rest declined', async () => {
  const d = await moved(async () => {
    const res = await ok(await post('/v1/responses', { model: 'llama3.2:3b', input: 'hi', stream: true }));
    const text = await res.text();
    assert.match(text, /event: response\.completed\n/);
  });
  // Hello (opens the message) and the done line decline; " from", " fake", " ollama", "." hit
  assert.deepEqual(d, { 'responses_token/hit': 4, 'responses_token/decline': 2 });
});
