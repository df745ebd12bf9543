// Scale-out through a real nginx: conf/nginx.conf (its servers and listen port swapped for the
// test's) in front of two keepwarm instances, each in front of its own stand-in Ollama.
// Streams arrive incrementally, killing one keepwarm fails no request, and a backend whose
// pinned model is missing says so on /readyz while the other keeps serving.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFake, startKeepwarm, startNginx, stopNginx, freePort, FakeControl, parseSSE, sleep, until, stopAll } from './harness.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const procs = [];
let nginx; // startNginx's { child, output, dir } and its { port, bufferedPort }
let fakeA, fakeB, ctlA, ctlB, kwA, kwB, killedA = false;

// conf/nginx.conf with the test's backends and port. Every substitution must hit, so that an
// edit of the shipped file that the test no longer understands fails here, loudly.
function shippedConf(backends, port) {
  let conf = fs.readFileSync(path.join(root, 'conf/nginx.conf'), 'utf8');
  const servers = /^(\s*)server\s+\S+:\d+(\s[^;]*)?;\n/gm;
  const found = conf.match(servers);
  assert.ok(found && found.length >= 2, 'conf/nginx.conf lists at least two upstream servers');
  let first = true;
  conf = conf.replace(servers, (line, indent, params = '') => {
    if (!first) return '';
    first = false;
    return backends.map((b) => `${indent}server ${b}${params};\n`).join('');
  });
  assert.match(conf, /^\s*listen 11435;$/m, 'conf/nginx.conf listens on 11435');
  conf = conf.replace(/^(\s*)listen 11435;$/m, `$1listen 127.0.0.1:${port};`);
  return conf;
}

async function startScaleNginx(backends) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kw-nginx-'));
  const [port, bufferedPort] = [await freePort(), await freePort()];
  fs.writeFileSync(path.join(dir, 'keepwarm.conf'), shippedConf(backends, port));
  const n = await startNginx(dir, {
    http: `
    include ${path.join(dir, 'keepwarm.conf')};

    # An nginx left with its default buffering, and gzip for event streams: without keepwarm's
    # X-Accel-Buffering: no, this one would hold the whole answer back until its end.
    server {
        listen 127.0.0.1:${bufferedPort};
        gzip on;
        gzip_types text/event-stream;
        gzip_min_length 0;
        location / {
            proxy_pass http://keepwarm;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            # Without it nginx sends "Host: keepwarm" (the upstream's name), which keepwarm on a
            # loopback listener refuses as Ollama would (DNS rebinding guard).
            proxy_set_header Host $host;
        }
    }`,
    ready: async () => {
      try {
        return (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200;
      } catch {
        return false;
      }
    },
  }).catch((e) => {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  });
  return Object.assign(n, { port, bufferedPort });
}

const chatBody = (stream, content = 'hi') => JSON.stringify({
  model: 'llama3.2:3b', stream, messages: [{ role: 'user', content }],
});

async function inFlight() {
  const [a, b] = await Promise.all([ctlA.stats(), ctlB.stats()]);
  return a.in_flight + b.in_flight;
}

before(async () => {
  fakeA = await startFake(['--token-delay', '20']);
  procs.push(fakeA);
  // Box B has not pulled qwen3:8b, which its keepwarm is asked to pin.
  fakeB = await startFake(['--token-delay', '20', '--models', 'llama3.2:3b=completion+tools']);
  procs.push(fakeB);
  ctlA = new FakeControl(fakeA);
  ctlB = new FakeControl(fakeB);
  kwA = await startKeepwarm(fakeA.url, ['--pin', 'llama3.2:3b', '--ping-interval', '200ms']);
  procs.push(kwA);
  kwB = await startKeepwarm(fakeB.url, ['--pin', 'llama3.2:3b', '--pin', 'qwen3:8b', '--ping-interval', '200ms']);
  procs.push(kwB);
  nginx = await startScaleNginx([`127.0.0.1:${kwA.port}`, `127.0.0.1:${kwB.port}`]);
});

after(async () => {
  if (nginx) {
    await stopNginx(nginx);
    fs.rmSync(nginx.dir, { recursive: true, force: true });
  }
  await stopAll(procs.filter((p) => !(p === kwA && killedA)));
});

// Reads a streamed answer, calling onFirst when the first SSE event arrives.
async function readStream(url, onFirst) {
  const r = await fetch(url, {
    method: 'POST', headers: { 'content-type': 'application/json', 'accept-encoding': 'gzip' }, body: chatBody(true),
  });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /text\/event-stream/);
  const encoding = r.headers.get('content-encoding');
  const reader = r.body.getReader();
  const dec = new TextDecoder();
  let text = '', reads = 0, first;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const chunk = dec.decode(value, { stream: true });
    if (chunk.includes('data: ')) reads++;
    text += chunk;
    if (first === undefined && text.includes('data: ')) {
      first = { text, ...(await onFirst()) };
    }
  }
  return { text, reads, first, encoding };
}

test('streams arrive incrementally through nginx, tuned or left buffered', async () => {
  await Promise.all([ctlA.post('config', { token_delay_ms: 100 }), ctlB.post('config', { token_delay_ms: 100 })]);
  try {
    for (const [what, port] of [['conf/nginx.conf', nginx.port], ['default buffering with gzip', nginx.bufferedPort]]) {
      const { text, reads, first, encoding } = await readStream(`http://127.0.0.1:${port}/v1/chat/completions`,
        async () => ({ inFlight: await inFlight() }));
      assert.equal(encoding, port === nginx.bufferedPort ? 'gzip' : null, `${what}: content-encoding`);
      assert.ok(first, `${what}: an SSE event arrived`);
      assert.equal(first.inFlight, 1, `${what}: the first chunk reached the client while the stand-in was still generating`);
      assert.ok(!first.text.includes('[DONE]'), `${what}: the first read was not the whole answer`);
      assert.ok(reads >= 3, `${what}: the answer came in ${reads} reads, not token by token`);
      const events = parseSSE(text);
      assert.equal(events.at(-1), '[DONE]');
      const content = events.slice(0, -1).map((e) => e.choices[0]?.delta?.content ?? '').join('');
      assert.equal(content, 'Hello from fake ollama.');
      assert.equal(await inFlight(), 0);
    }
  } finally {
    await Promise.all([ctlA.post('config', { token_delay_ms: 20 }), ctlB.post('config', { token_delay_ms: 20 })]);
  }
});

test('a backend whose pinned model is missing is not ready; the other is, and both keep serving', async () => {
  await until(async () => (await fetch(`${kwA.url}/readyz`)).status === 200, 'keepwarm A ready');
  const notReady = await fetch(`${kwB.url}/readyz`);
  assert.equal(notReady.status, 503);
  const body = await notReady.json();
  assert.equal(body.ready, false);
  assert.deepEqual(body.missing, ['qwen3:8b']);

  const before = [(await ctlA.stats()).completed, (await ctlB.stats()).completed];
  for (let i = 0; i < 6; i++) {
    const r = await fetch(`http://127.0.0.1:${nginx.port}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody(false),
    });
    assert.equal(r.status, 200);
    assert.equal((await r.json()).choices[0].message.content, 'Hello from fake ollama.');
  }
  const served = [(await ctlA.stats()).completed - before[0], (await ctlB.stats()).completed - before[1]];
  assert.ok(served[0] >= 1, `the ready backend served (${served})`);
  assert.equal(served[0] + served[1], 6);
  // Still not ready: keepwarm keeps trying to load the missing model and says why.
  assert.equal((await fetch(`${kwB.url}/readyz`)).status, 503);
  const missing = (await (await fetch(`${kwB.url}/metrics`)).text())
    .match(/^keepwarm_model_loaded\{model="qwen3:8b",pinned="1"\} (\d+)$/m);
  assert.equal(missing?.[1], '0');
});

test('nginx takes conf/nginx.conf without a warning; model management is not load-balanced', async () => {
  assert.doesNotMatch(nginx.output, /\[(warn|error|crit|alert|emerg)\]/, nginx.output);
  const r = await fetch(`http://127.0.0.1:${nginx.port}/api/pull`, { method: 'POST', body: '{"model":"llama3.2:3b"}' });
  assert.equal(r.status, 403);
  assert.match((await r.json()).error, /not load-balanced/);
  const tags = await fetch(`http://127.0.0.1:${nginx.port}/api/tags`);
  assert.equal(tags.status, 200, 'the rest of the native API passes');
});

test('killing one keepwarm (SIGKILL) fails no request', async () => {
  const base = `http://127.0.0.1:${nginx.port}`;
  const results = [];
  let stop = false, killedAt = 0;
  const worker = async (w) => {
    for (let i = 0; !stop; i++) {
      const t = Date.now();
      try {
        const native = (i + w) % 3 === 0;
        const r = native
          ? await fetch(`${base}/api/chat`, { method: 'POST', body: chatBody(false) })
          : await fetch(`${base}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody(false) });
        const j = await r.json();
        const content = native ? j.message?.content : j.choices?.[0]?.message?.content;
        results.push({ t, ok: r.status === 200 && content === 'Hello from fake ollama.', status: r.status, body: j });
      } catch (e) {
        results.push({ t, ok: false, error: String(e) });
      }
    }
  };
  const workers = [0, 1, 2, 3].map(worker);
  await sleep(400);
  // Some requests are being generated behind A right now: they were sent and not answered.
  killedA = true;
  killedAt = Date.now();
  kwA.child.kill('SIGKILL');
  await once(kwA.child, 'exit');
  const servedByBBefore = (await ctlB.stats()).completed;
  await sleep(600);
  stop = true;
  await Promise.all(workers);

  const failed = results.filter((r) => !r.ok);
  assert.deepEqual(failed, [], `failed requests: ${JSON.stringify(failed.slice(0, 3))}`);
  const beforeKill = results.filter((r) => r.t < killedAt).length;
  const afterKill = results.filter((r) => r.t >= killedAt).length;
  assert.ok(beforeKill >= 8 && afterKill >= 8, `requests before (${beforeKill}) and after (${afterKill}) the kill`);
  assert.ok((await ctlB.stats()).completed - servedByBBefore >= afterKill, 'B answered everything after the kill');

  // Streams keep working over the survivor.
  for (let i = 0; i < 3; i++) {
    const r = await fetch(`${base}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody(true) });
    assert.equal(r.status, 200);
    assert.equal(parseSSE(await r.text()).at(-1), '[DONE]');
  }
});
