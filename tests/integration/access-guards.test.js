// The checks Ollama makes itself and keepwarm must make in its place, because it forwards neither
// Origin nor Host: cross-site requests (Origin), DNS rebinding (Host on a loopback listener), and
// admin_api decided on the path Ollama's router decodes (%-escapes, "//", dot segments). Every
// refused request must leave the stand-in untouched, which its request log proves.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import os from 'node:os';
import { startFake, startKeepwarm, FakeControl, stopAll } from './harness.js';

let fake, ctl, kw;
const procs = [];
before(async () => {
  fake = await startFake();
  procs.push(fake);
  ctl = new FakeControl(fake);
  kw = await startKeepwarm(fake.url);
  procs.push(kw);
});
after(() => stopAll(procs));
beforeEach(async () => { await ctl.reset(); });

const chat = JSON.stringify({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'x' }] });

// One request written byte for byte (no client library picks the Host or fixes the path);
// resolves to { status, head, body } once the server closes.
function raw(port, method, target, headers = {}, body = '', version = '1.1') {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => {
      let head = `${method} ${target} HTTP/${version}\r\n`;
      for (const [k, v] of Object.entries(headers)) if (v !== undefined) head += `${k}: ${v}\r\n`;
      if (body || method === 'POST') head += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
      s.write(`${head}Connection: close\r\n\r\n${body}`);
    });
    let data = '';
    s.on('data', (d) => { data += d; });
    s.on('close', () => {
      const m = data.match(/^HTTP\/1\.[01] (\d{3})/);
      const i = data.indexOf('\r\n\r\n');
      resolve({ status: m ? Number(m[1]) : 0, head: data.slice(0, i), body: data.slice(i + 4) });
    });
    s.on('error', reject);
  });
}
const host = () => `127.0.0.1:${kw.port}`;
const forwarded = async () => (await ctl.requests()).filter((q) => q.path !== '/api/ps');

test('a cross-site simple POST from a foreign page is refused with 403 and never reaches Ollama', async () => {
  // What a form or fetch(mode:no-cors) on http://evil.example can send without a preflight.
  for (const [method, target, body] of [
    ['POST', '/api/pull', '{"model":"x"}'],
    ['POST', '/api/create', '{"model":"x","from":"llama3.2:3b"}'],
    ['POST', '/api/copy', '{"source":"llama3.2:3b","destination":"x"}'],
    ['POST', '/api/chat', chat],
    ['POST', '/v1/chat/completions', chat],
    ['DELETE', '/api/delete', '{"model":"llama3.2:3b"}'],
    ['GET', '/api/tags', ''],
  ]) {
    const r = await raw(kw.port, method, target,
      { Host: host(), Origin: 'http://evil.example', 'Content-Type': 'text/plain' }, body);
    assert.equal(r.status, 403, `${method} ${target}`);
    assert.equal(/access-control-allow-origin/i.test(r.head), false, 'no CORS grant');
  }
  assert.deepEqual(await forwarded(), [], 'the stand-in received none of them');
  // The OpenAI error envelope on /v1, {"error":...} on /api.
  const v1 = await raw(kw.port, 'POST', '/v1/chat/completions', { Host: host(), Origin: 'https://evil.example' }, chat);
  assert.match(JSON.parse(v1.body).error.message, /origin not allowed/);
});

test("Ollama's own allowed origins, the same origin, and no Origin are served", async () => {
  for (const origin of ['http://localhost', 'http://localhost:3000', 'https://127.0.0.1:8443',
    'http://0.0.0.0:5173', 'app://obsidian.md', 'file://', 'tauri://localhost',
    'vscode-webview://abc123', 'vscode-file://vscode-app', `http://${host()}`, undefined]) {
    const r = await raw(kw.port, 'POST', '/api/chat', { Host: host(), Origin: origin }, chat);
    assert.equal(r.status, 200, String(origin));
    if (origin) assert.match(r.head, new RegExp(`access-control-allow-origin: ${origin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'i'));
    else assert.doesNotMatch(r.head, /access-control-allow-origin/i, 'no Origin: no CORS grant');
  }
  const ups = await forwarded();
  assert.equal(ups.length, 11);
  for (const q of ups) assert.equal(q.headers.origin, undefined, 'Origin is never forwarded');
});

test('cors_origins widens the list: exact entries, one-star patterns, and "*"', async () => {
  const kw2 = await startKeepwarm(fake.url, [], { KEEPWARM_CORS_ORIGINS: 'https://app.example, chrome-extension://*, https://*.corp.example' });
  procs.push(kw2);
  const h = `127.0.0.1:${kw2.port}`;
  for (const [origin, want] of [['https://app.example', 200], ['chrome-extension://abcdef', 200],
    ['https://team.corp.example', 200], ['https://corp.example.evil.example', 403],
    ['https://app.example.evil', 403], ['http://evil.example', 403]]) {
    assert.equal((await raw(kw2.port, 'POST', '/api/chat', { Host: h, Origin: origin }, chat)).status, want, origin);
  }
  const any = await startKeepwarm(fake.url, [], { KEEPWARM_CORS_ORIGINS: '*' });
  procs.push(any);
  assert.equal((await raw(any.port, 'POST', '/api/chat', { Host: `127.0.0.1:${any.port}`, Origin: 'http://evil.example' }, chat)).status, 200);
  // A preflight from a foreign origin is refused too; from an allowed one it is answered here.
  assert.equal((await raw(kw.port, 'OPTIONS', '/v1/chat/completions', { Host: host(), Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' })).status, 403);
  assert.equal((await raw(kw.port, 'OPTIONS', '/v1/chat/completions', { Host: host(), Origin: 'http://localhost:3000', 'Access-Control-Request-Method': 'POST' })).status, 204);
});

test('DNS rebinding: a foreign Host on the loopback listener gets 403 and nothing is forwarded', async () => {
  for (const h of ['evil.example:11435', 'evil.example', 'localhost.evil.example', '8.8.8.8', '[2001:4860::8888]:80', 'local', 'xlocalhost']) {
    const r = await raw(kw.port, 'POST', '/api/chat', { Host: h }, chat);
    assert.equal(r.status, 403, h);
    assert.match(r.body, /host not allowed/);
  }
  assert.deepEqual(await forwarded(), []);
  // What Ollama's allowedHostsMiddleware lets through.
  for (const h of ['localhost', 'LOCALHOST:11435', host(), '127.1.2.3', '[::1]:11435', '::1', '10.1.2.3',
    '192.168.1.20:80', '172.16.0.1', '0.0.0.0', 'ollama.localhost', 'box.local', 'gpu.internal', os.hostname()]) {
    assert.equal((await raw(kw.port, 'GET', '/api/version', { Host: h })).status, 200, h);
  }
  // HTTP/1.0 needs no Host; HTTP/1.1 does (as Go's server answers).
  assert.equal((await raw(kw.port, 'GET', '/api/version', {}, '', '1.0')).status, 200);
  assert.equal((await raw(kw.port, 'GET', '/api/version', {})).status, 400);
});

test('allowed_hosts widens the Host check; "*" switches it off', async () => {
  const kw2 = await startKeepwarm(fake.url, [], { KEEPWARM_ALLOWED_HOSTS: 'ollama.example.com, *.corp.example' });
  procs.push(kw2);
  for (const [h, want] of [['ollama.example.com', 200], ['Ollama.Example.Com:443', 200], ['a.corp.example', 200],
    ['evil.example', 403], ['ollama.example.com.evil', 403]]) {
    assert.equal((await raw(kw2.port, 'GET', '/api/version', { Host: h })).status, want, h);
  }
  const any = await startKeepwarm(fake.url, [], { KEEPWARM_ALLOWED_HOSTS: '*' });
  procs.push(any);
  assert.equal((await raw(any.port, 'GET', '/api/version', { Host: 'evil.example' })).status, 200);
});

test('admin_api = deny holds against %-encoded, doubled-slash and dot-segment paths', async () => {
  const deny = await startKeepwarm(fake.url, [], { KEEPWARM_ADMIN_API: 'deny' });
  procs.push(deny);
  const h = `127.0.0.1:${deny.port}`;
  for (const [method, target] of [['POST', '/api/%70ull'], ['POST', '/api/pul%6C'], ['POST', '/api/%63reate'],
    ['POST', '/api/%70%75%6c%6c'], ['DELETE', '/api/delet%65'], ['POST', '/api//pull'], ['POST', '//api/pull'],
    ['POST', '/api/./copy'], ['POST', '/api/x/../push'], ['POST', '/api/%2e%2e/api/create'], ['POST', '/api/pull/'],
    ['POST', '/v1/../api/pull'], ['POST', '/api%2Fpull'], ['HEAD', '/api/blobs/sha256:abc'], ['POST', '/api/blob%73/sha256:abc']]) {
    const r = await raw(deny.port, method, target, { Host: h }, method === 'HEAD' ? '' : '{"model":"x"}');
    assert.equal(r.status, 403, `${method} ${target}`);
  }
  assert.deepEqual(await forwarded(), [], 'no model management reached the stand-in');
});

test('bad %-escapes and control bytes in the path are a 400; the normalised path is what Ollama gets', async () => {
  for (const target of ['/api/tags%00', '/api/ta%zzgs', '/api/tags%', '/api/ta%0Ags', '/api/t%7Fags', '/v1/models/a%01b']) {
    assert.equal((await raw(kw.port, 'GET', target, { Host: host() })).status, 400, target);
  }
  assert.deepEqual(await forwarded(), []);
  // Decided on the normalised path and forwarded as such, query untouched.
  await raw(kw.port, 'GET', '/api//t%61gs/./?x=%20y&z=1', { Host: host() });
  assert.equal((await ctl.requests()).at(-1).path, '/api/tags/?x=%20y&z=1');
  assert.equal((await raw(kw.port, 'GET', '/api//t%61gs?x=1', { Host: host() })).status, 200);
  assert.equal((await ctl.requests()).at(-1).path, '/api/tags?x=1');
  // An injected endpoint reached through an odd spelling still gets the injection.
  assert.equal((await raw(kw.port, 'POST', '/api/./c%68at', { Host: host() }, chat)).status, 200);
  const up = await ctl.lastRequest('/api/chat');
  assert.equal(up.body.keep_alive, -1, 'keep_alive injected');
  // /v1/models/{id} ids are decoded once: %2F is a '/', %25 stays a '%'.
  assert.equal((await raw(kw.port, 'GET', '/v1/models/llama3.2%3A3b', { Host: host() })).status, 200);
  assert.equal((await ctl.lastRequest('/api/show')).body.model, 'llama3.2:3b');
  await raw(kw.port, 'GET', '/v1/models/a%2525b', { Host: host() });
  assert.equal((await ctl.lastRequest('/api/show')).body.model, 'a%25b');
  await raw(kw.port, 'GET', '/v1/models/library%2Fllama3.2%3A3b', { Host: host() });
  assert.equal((await ctl.lastRequest('/api/show')).body.model, 'library/llama3.2:3b');
});
