// Fidelity items found by real clients (issue 14): response ids unique within a process,
// every other /v1/ path passed through to Ollama (with keepwarm's access rules), embedding
// numbers written as Ollama wrote them, and token counts for the native /api/chat and
// /api/generate in the access log and keepwarm_tokens_total.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startFake, startKeepwarm, FakeControl, readSSE, metric, iniFile, until } from './harness.js';

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

// What Ollama answers for a path its router does not know: gin's plain-text 404. keepwarm
// relays it as it came (not its own JSON envelope): the answer is Ollama's.
test('/v1 passthrough: an unknown /v1/ path goes to Ollama untouched, logged and counted', async () => {
  const before = await metric(kw, /keepwarm_requests_total\{route="v1_passthrough",code="404"\} (\d+)/) ?? 0;
  const body = '{"model":"llama3.2:3b","file":"x","Keep_Alive":"5m"}';
  const r = await fetch(`${kw.url}/v1/audio/transcriptions?lang=en&x=%2F`, {
    method: 'POST', headers: { 'Content-Type': 'application/x-test', 'X-Custom': 'kept' }, body,
  });
  assert.equal(r.status, 404);
  assert.match(r.headers.get('content-type'), /^text\/plain/);
  assert.equal(await r.text(), '404 page not found');
  const up = await ctl.lastRequest('/v1/audio/transcriptions');
  assert.ok(up, 'Ollama saw the request');
  assert.equal(up.method, 'POST');
  assert.equal(up.path, '/v1/audio/transcriptions?lang=en&x=%2F', 'query as the client wrote it');
  assert.equal(up.headers['content-type'], 'application/x-test');
  assert.equal(up.headers['x-custom'], 'kept');
  assert.deepEqual(up.body, JSON.parse(body), 'body untouched: no keep_alive injected');
  for (const method of ['GET', 'DELETE', 'PUT', 'PATCH']) {
    const g = await fetch(`${kw.url}/v1/next/endpoint`, { method });
    assert.equal(g.status, 404, method);
    assert.equal((await ctl.lastRequest('/v1/next/endpoint')).method, method);
  }
  const after = await metric(kw, /keepwarm_requests_total\{route="v1_passthrough",code="404"\} (\d+)/);
  assert.equal(after - before, 5);
  // keepwarm's own 405 is counted too (it was not before)
  const own = async () => await metric(kw, /keepwarm_requests_total\{route="other",code="405"\} (\d+)/) ?? 0;
  const own0 = await own();
  assert.equal((await fetch(`${kw.url}/v1/embeddings`)).status, 405);
  assert.equal(await own() - own0, 1);
  await until(() => kw.output.includes('msg="/v1 path passed through to Ollama"') &&
    /msg="request" [^\n]*path="\/v1\/audio\/transcriptions\?lang=en&x=%2F"[^\n]*status=404/.test(kw.output),
  'the passthrough logged');
});

test('/v1 passthrough: the access rules hold (keys, admin_api, normalised paths, no raw translated path)', async () => {
  const ini = iniFile('[keepwarm]\napi_key = sk-one\nadmin_api = deny\n');
  const kw2 = await startKeepwarm(fake.url, ['-c', ini, '--log-level', 'info']);
  try {
    const auth = { Authorization: 'Bearer sk-one' };
    // the warm loop's own /api/ps rounds aside
    const seen = async () => (await ctl.requests()).filter((q) => !q.path.startsWith('/api/ps')).length;
    const n0 = await seen();
    // no key, no passthrough
    let r = await fetch(`${kw2.url}/v1/audio/transcriptions`, { method: 'POST', body: '{}' });
    assert.equal(r.status, 401);
    assert.equal((await r.json()).error.code, 'invalid_api_key');
    // a way around admin_api through /v1/: the path is normalised before anything is decided
    for (const p of ['/v1/../api/pull', '/v1/%2e%2e/api/pull', '/v1/x/../../api/delete', '/v1/..%2Fapi/pull']) {
      r = await fetch(`${kw2.url}${p}`, { method: 'POST', headers: auth, body: '{"model":"x"}' });
      assert.equal(r.status, 403, p);
    }
    // a translated path with a trailing '/' is not passed through raw (no keep_alive, no options)
    r = await fetch(`${kw2.url}/v1/chat/completions/`, {
      method: 'POST', headers: auth, body: '{"model":"llama3.2:3b","messages":[]}',
    });
    assert.equal(r.status, 404);
    assert.match((await r.json()).error.message, /unknown endpoint/);
    // Ollama's router is case-sensitive: /V1/ is no /v1/ path (keepwarm's own 404, native envelope)
    r = await fetch(`${kw2.url}/V1/chat/completions`, { method: 'POST', headers: auth, body: '{}' });
    assert.equal(r.status, 404);
    assert.deepEqual(await r.json(), { error: '404 page not found' });
    assert.equal(await seen(), n0, 'Ollama saw none of these');
    // with the key, a passthrough goes
    r = await fetch(`${kw2.url}/v1/audio/transcriptions`, { method: 'POST', headers: auth, body: '{}' });
    assert.equal(r.status, 404);
    assert.equal(await r.text(), '404 page not found');
    const up = await ctl.lastRequest('/v1/audio/transcriptions');
    assert.equal(up.headers.authorization, undefined, 'the key stays with keepwarm');
    assert.equal(await seen(), n0 + 1);
    // keepwarm's own 404s and 405s are logged
    r = await fetch(`${kw2.url}/v1/embeddings`, { headers: auth });
    assert.equal(r.status, 405);
    r = await fetch(`${kw2.url}/healthz`, { method: 'POST', headers: auth });
    assert.equal(r.status, 405);
    r = await fetch(`${kw2.url}/v1/models/`, { headers: auth }); // the entry's own 404
    assert.equal(r.status, 404);
    await until(() => /msg="request" [^\n]*path="\/V1\/chat\/completions" status=404/.test(kw2.output) &&
      /msg="request" [^\n]*method=GET path="\/v1\/embeddings" status=405/.test(kw2.output) &&
      /msg="request" [^\n]*method=POST path="\/healthz" status=405/.test(kw2.output) &&
      /msg="request" [^\n]*method=GET path="\/v1\/models\/" status=404 reason="model id is empty"/.test(kw2.output),
    'keepwarm\'s own 404 and 405 logged');
  } finally {
    await kw2.stop();
  }
});

// The native inject entry relays Ollama's bytes untouched; its counts are read from the end of
// the answer (the done line), so the access log and keepwarm_tokens_total have them too.
test('native /api/chat and /api/generate: token counts in the access log and keepwarm_tokens_total', async () => {
  const kind = (k) => new RegExp(`keepwarm_tokens_total\\{model="codellama:7b",kind="${k}"\\} (\\d+)`);
  const total = async () => [await metric(kw, kind('prompt')) ?? 0, await metric(kw, kind('completion')) ?? 0];
  let [p0, c0] = await total();
  const cases = [
    ['/api/chat', { messages: [{ role: 'user', content: 'one two three' }] }],
    ['/api/generate', { prompt: 'one two three four' }],
  ];
  for (const [path, extra] of cases) {
    for (const stream of [false, true]) {
      const rid = `tok-${path.slice(5)}-${stream}`;
      const r = await post(path, { model: 'codellama:7b', stream, ...extra }, { 'X-Request-Id': rid });
      assert.equal(r.status, 200);
      const text = await r.text();
      const last = JSON.parse(text.trim().split('\n').at(-1));
      assert.ok(last.done && last.prompt_eval_count > 0 && last.eval_count > 0, text);
      const [p1, c1] = await total();
      assert.deepEqual([p1 - p0, c1 - c0], [last.prompt_eval_count, last.eval_count], `${path} stream=${stream}`);
      [p0, c0] = [p1, c1];
      const re = new RegExp(`request_id=${rid} [^\\n]* prompt_tokens=${last.prompt_eval_count} completion_tokens=${last.eval_count} `);
      await until(() => re.test(kw.output), `the access line of ${rid}`);
    }
  }
});

// Ollama writes its float32 embeddings in Go's shortest form (the stand-in does too); its /v1
// layer writes the same float32 the same way. keepwarm copies the numbers' bytes.
test('embeddings: numbers byte for byte as Ollama wrote them; base64 unchanged', async () => {
  const input = ['the quick brown fox', 'jumps', 'over the lazy dog'];
  const native = await (await fetch(`${fake.url}/api/embed`, {
    method: 'POST', body: JSON.stringify({ model: 'nomic-embed-text', input }),
  })).text();
  const arrays = (text) => [...text.matchAll(/\[(-?\d[^\[\]]*)\]/g)].map((m) => m[1]);
  const want = arrays(native);
  assert.equal(want.length, 3);
  const r = await post('/v1/embeddings', { model: 'nomic-embed-text', input });
  assert.equal(r.status, 200);
  const text = await r.text();
  assert.deepEqual(arrays(text), want, 'the numbers as Ollama wrote them');
  const body = JSON.parse(text);
  assert.deepEqual(Object.keys(body), ['object', 'data', 'model', 'usage']);
  assert.deepEqual(body.data.map((d) => [d.object, d.index]), [['embedding', 0], ['embedding', 1], ['embedding', 2]]);
  assert.equal(body.model, 'nomic-embed-text');
  assert.ok(body.usage.prompt_tokens > 0);
  // dimensions, a single string input: the same rule
  const one = await post('/v1/embeddings', { model: 'nomic-embed-text', input: 'x', dimensions: 3 });
  const oneText = await one.text();
  const oneNative = await (await fetch(`${fake.url}/api/embed`, {
    method: 'POST', body: JSON.stringify({ model: 'nomic-embed-text', input: 'x', dimensions: 3 }),
  })).text();
  assert.deepEqual(arrays(oneText), arrays(oneNative));
  // base64: little-endian float32s of the same values, as before
  const b = await (await post('/v1/embeddings', { model: 'nomic-embed-text', input, encoding_format: 'base64' })).json();
  const floats = new Float32Array(Uint8Array.from(Buffer.from(b.data[0].embedding, 'base64')).buffer);
  assert.deepEqual([...floats], JSON.parse(`[${want[0]}]`).map(Math.fround));
});
