// Content-Encoding: zstd request bodies on the translated /v1 routes, as Ollama decodes them
// (server/cloud_proxy.go at fb30760: 8 MiB decoder window, 20 MiB decompressed, header removed):
// the bodies are made by Debian's zstd CLI, as a client (Codex) would send them.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startFake, startKeepwarm, FakeControl, readSSE, iniFile } from './harness.js';

let fake, kw, ctl;

const zstd = (text, args = []) => execFileSync('zstd', ['-q', '-c', ...args], { input: text, maxBuffer: 1 << 26 });

before(async () => {
  fake = await startFake();
  ctl = new FakeControl(fake);
  kw = await startKeepwarm(fake.url, ['-c', iniFile('[keepwarm]\nmax_body_size = 4MiB\n')]);
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

const send = (path, body, encoding = 'zstd', extra = {}) => fetch(`${kw.url}${path}`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json', ...(encoding ? { 'Content-Encoding': encoding } : {}), ...extra },
  body,
});
// the requests Ollama saw, the warm loop's aside
const seen = async () => (await ctl.requests()).filter((q) => !q.path.startsWith('/api/ps'));

test('zstd: chat, completions and embeddings bodies decoded, translated, sent plain', async () => {
  const chat = { model: 'llama3.2:3b', messages: [{ role: 'user', content: 'hi there' }] };
  let r = await send('/v1/chat/completions', zstd(JSON.stringify(chat)));
  assert.equal(r.status, 200, await r.clone().text());
  assert.equal((await r.json()).object, 'chat.completion');
  let up = await ctl.lastRequest('/api/chat');
  assert.deepEqual(up.body.messages, chat.messages);
  assert.equal(up.body.keep_alive, -1, 'the policy applies to a decoded body too');
  assert.equal(up.headers['content-encoding'], undefined, 'no coding on the body keepwarm wrote');
  assert.equal(up.headers['content-type'], 'application/json');

  // a stream, its body in two concatenated frames (the fast path reads the decoded bytes)
  const text = JSON.stringify({ ...chat, stream: true });
  const two = Buffer.concat([zstd(text.slice(0, 20)), zstd(text.slice(20))]);
  r = await send('/v1/chat/completions', two, ' ZSTD ');
  assert.equal(r.status, 200);
  const events = await readSSE(r);
  assert.equal(events.at(-1), '[DONE]');

  r = await send('/v1/completions', zstd(JSON.stringify({ model: 'llama3.2:3b', prompt: 'hi' })));
  assert.equal(r.status, 200);
  assert.equal((await r.json()).object, 'text_completion');
  up = await ctl.lastRequest('/api/generate');
  assert.equal(up.body.prompt, 'hi');

  r = await send('/v1/embeddings', zstd(JSON.stringify({ model: 'nomic-embed-text', input: 'a b' })));
  assert.equal(r.status, 200);
  assert.equal((await r.json()).data.length, 1);
  up = await ctl.lastRequest('/api/embed');
  assert.equal(up.body.input, 'a b');
  assert.equal(up.headers['content-encoding'], undefined);
});

test('zstd: a bad body is a 400 in the OpenAI envelope, nothing forwarded', async () => {
  const cases = [
    ['plain JSON sent as zstd', Buffer.from('{"model":"llama3.2:3b","messages":[]}'), /^failed to decompress request body: /],
    ['a truncated frame', zstd(JSON.stringify({ model: 'llama3.2:3b', prompt: 'x'.repeat(500) })).subarray(0, 20),
      /^failed to decompress request body: /],
    ['an empty body', Buffer.alloc(0), /missing request body/],
  ];
  for (const [what, body, re] of cases) {
    const r = await send('/v1/chat/completions', body);
    assert.equal(r.status, 400, what);
    const e = (await r.json()).error;
    assert.match(e.message, re, what);
    assert.equal(e.type, 'invalid_request_error', what);
  }
  // another coding: Ollama would read its bytes as JSON and refuse them; keepwarm says why
  const r = await send('/v1/chat/completions', Buffer.from('{"model":"llama3.2:3b","messages":[]}'), 'gzip');
  assert.equal(r.status, 400);
  assert.equal((await r.json()).error.message, 'unsupported Content-Encoding "gzip": only zstd request bodies are decoded');
  // identity is no coding at all
  const ok = await send('/v1/chat/completions', JSON.stringify({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'x' }] }), 'identity');
  assert.equal(ok.status, 200);
  assert.equal((await seen()).length, 1, 'only the identity request reached Ollama');
});

// A zip bomb: a few KiB that inflate past the cap (the smaller of max_body_size, here 4 MiB,
// and Ollama's 20 MiB) are refused when the cap is reached, whether the frame declares its size
// (refused from the header) or not (refused while decoding).
test('zstd: a body past the cap once decompressed is a 413, declared or not', async () => {
  const zeros = Buffer.alloc(64 << 20);
  for (const args of [[], ['--no-content-size']]) {
    const bomb = args.length ? execFileSync('zstd', ['-q', '-c', ...args], { input: zeros, maxBuffer: 1 << 26 })
      : zstd(zeros);
    assert.ok(bomb.length < 64 * 1024, `${bomb.length} bytes`);
    const r = await send('/v1/chat/completions', bomb);
    assert.equal(r.status, 413, args.join(' '));
    assert.equal((await r.json()).error.message,
      'request body too large: more than 4194304 bytes once decompressed');
  }
  // just under the cap: served (a JSON body padded with blanks to 4 MiB)
  const body = JSON.stringify({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'x' }] });
  const padded = body + ' '.repeat((4 << 20) - body.length);
  const r = await send('/v1/chat/completions', zstd(padded, ['--no-content-size']));
  assert.equal(r.status, 200);
  assert.equal((await seen()).length, 1);
});

test('zstd: native /api routes and the /v1 passthrough get the bytes as sent (Ollama decodes neither)', async () => {
  const body = zstd(JSON.stringify({ model: 'llama3.2:3b', prompt: 'hi' }));
  // /api/generate: Ollama has no zstd there, so the body is not JSON: 400 as Ollama answers
  let r = await send('/api/generate', body);
  assert.equal(r.status, 400);
  assert.match((await r.json()).error, /invalid JSON/);
  // a /v1 path keepwarm does not translate: Ollama decides, with the coding header kept
  r = await send('/v1/audio/transcriptions', body);
  assert.equal(r.status, 404);
  const up = await ctl.lastRequest('/v1/audio/transcriptions');
  assert.equal(up.headers['content-encoding'], 'zstd');
});
