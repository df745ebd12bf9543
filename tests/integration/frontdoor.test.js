// The HTTP front door: hostile HTTP/1.1 framing and slow clients get what nginx and HAProxy
// give them (400/408/413/417/501 and a closed connection), nothing reaches Ollama, and
// keepwarm keeps serving everyone else. Raw sockets: a client library would hide the bytes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { startFake, startKeepwarm, FakeControl, sleep, until, stopAll } from './harness.js';

const procs = [];
after(() => stopAll(procs));

// Writes data on one socket (never ending our side) and collects what the server sends until
// it closes the connection or waitMs passes: { out, closed }.
function exchange(port, data, waitMs = 2000) {
  return new Promise((resolve) => {
    let out = Buffer.alloc(0);
    let done = false;
    const s = net.connect(port, '127.0.0.1', () => { if (data) s.write(data); });
    const finish = (closed) => { if (done) return; done = true; clearTimeout(t); s.destroy(); resolve({ out: out.toString('latin1'), closed }); };
    const t = setTimeout(() => finish(false), waitMs);
    s.on('data', (d) => { out = Buffer.concat([out, d]); });
    s.on('end', () => finish(true));
    s.on('close', () => finish(true));
    s.on('error', () => finish(true));
  });
}
const statuses = (out) => [...out.matchAll(/HTTP\/1\.[01] (\d{3}) [A-Z]/g)].map((m) => Number(m[1]));

let fake, ctl, kw;
async function setup(env = {}) {
  fake = await startFake();
  procs.push(fake);
  ctl = new FakeControl(fake);
  kw = await startKeepwarm(fake.url, [], env);
  procs.push(kw);
}
// The stand-in saw nothing since the last reset (but the warm loop's /api/ps).
async function upstreamSawNothing(what) {
  const seen = (await ctl.requests()).map((q) => `${q.method} ${q.path}`).filter((q) => q !== 'GET /api/ps');
  assert.deepEqual(seen, [], `${what}: nothing reaches Ollama`);
}
async function stillServes() {
  assert.equal((await fetch(`${kw.url}/healthz`)).status, 200, 'keepwarm keeps serving');
}

test('request smuggling: repeated or conflicting framing headers get 400 and a closed connection', async () => {
  await setup();
  const smuggled = 'POST /api/pull HTTP/1.1\r\nHost: localhost\r\nContent-Length: 17\r\n\r\n{"model":"evil"}\n';
  const cases = {
    'two different Content-Length': `POST /api/show HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nContent-Length: ${2 + smuggled.length}\r\n\r\n{}${smuggled}`,
    'two equal Content-Length': 'POST /api/show HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}' + smuggled,
    'Content-Length and Transfer-Encoding': `POST /api/show HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n${smuggled}`,
    'Transfer-Encoding and Content-Length': `POST /api/show HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n2\r\n{}\r\n0\r\n\r\n${smuggled}`,
    'two Transfer-Encoding': `POST /api/show HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n${smuggled}`,
  };
  for (const [what, data] of Object.entries(cases)) {
    await ctl.reset();
    const r = await exchange(kw.port, data);
    assert.deepEqual(statuses(r.out), [400], `${what}: one 400, no second answer (${JSON.stringify(r.out.slice(0, 200))})`);
    assert.match(r.out, /\r\nConnection: close\r\n/i, what);
    assert.ok(r.closed, `${what}: the connection is closed`);
    await upstreamSawNothing(what);
  }
  // Transfer-Encoding other than exactly chunked: 501, as nginx answers unknown codings
  // (Debian's libevent already answers 400 to a list of codings, before keepwarm sees it).
  for (const te of ['gzip, chunked', 'chunked, chunked', 'identity', 'xchunked', 'chunked;x=1']) {
    await ctl.reset();
    const r = await exchange(kw.port, `POST /api/show HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: ${te}\r\n\r\n2\r\n{}\r\n0\r\n\r\n${smuggled}`);
    const want = te.includes(',') ? [400, 501] : [501];
    assert.equal(statuses(r.out).length, 1, `Transfer-Encoding: ${te}: one answer`);
    assert.ok(want.includes(statuses(r.out)[0]), `Transfer-Encoding: ${te}: ${statuses(r.out)}`);
    assert.ok(r.closed, `Transfer-Encoding: ${te}: closed`);
    await upstreamSawNothing(`Transfer-Encoding: ${te}`);
  }
  // The honest forms still work, on a kept-alive connection.
  await ctl.reset();
  const ok = await exchange(kw.port, 'POST /api/show HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: Chunked\r\n\r\n10\r\n{"model":"a:1b"}\r\n0\r\n\r\n' +
    'POST /api/show HTTP/1.1\r\nHost: localhost\r\nContent-Length: 16\r\n\r\n{"model":"a:1b"}', 1500);
  assert.equal(statuses(ok.out).length, 2, `chunked then Content-Length on one connection: two answers (${ok.out.slice(0, 300)})`);
  assert.equal((await ctl.requests()).length, 2);
  await stillServes();
});

test('header names and values: whitespace, non-token names, NUL and control bytes get 400', async () => {
  await setup();
  const body = '{"model":"m"}';
  const cases = {
    'space before the colon': `POST /api/show HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding : chunked\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    'space inside the name': `GET /api/tags HTTP/1.1\r\nHost: localhost\r\nX Forwarded: a\r\n\r\n`,
    'non-token name': `GET /api/tags HTTP/1.1\r\nHost: localhost\r\nX-A(b): a\r\n\r\n`,
    'empty name': `GET /api/tags HTTP/1.1\r\nHost: localhost\r\n: a\r\n\r\n`,
    'NUL in a value': `GET /api/tags HTTP/1.1\r\nHost: localhost\r\nX-Api-Key: abc\0def\r\n\r\n`,
    'NUL in the request line': `GET /api/tags\0/x HTTP/1.1\r\nHost: localhost\r\n\r\n`,
    'control byte in a value': `GET /api/tags HTTP/1.1\r\nHost: localhost\r\nX-A: a\x01b\r\n\r\n`,
    'bare CR in a value': `GET /api/tags HTTP/1.1\r\nHost: localhost\r\nX-A: a\rb\r\n\r\n`,
    'obs-fold': `GET /api/tags HTTP/1.1\r\nHost: localhost\r\nX-A: a\r\n  b\r\n\r\n`,
  };
  for (const [what, data] of Object.entries(cases)) {
    await ctl.reset();
    const r = await exchange(kw.port, data);
    assert.deepEqual(statuses(r.out), [400], `${what} (${JSON.stringify(r.out.slice(0, 200))})`);
    assert.ok(r.closed, `${what}: closed`);
    await upstreamSawNothing(what);
  }
  // The same heads pipelined behind a good request, in one write: the front door finds the
  // second request in bytes that came while the first was read, and scans them all.
  for (const [what, data] of Object.entries(cases)) {
    await ctl.reset();
    const r = await exchange(kw.port, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n' + data);
    assert.deepEqual(statuses(r.out), [200, 400], `pipelined, ${what} (${JSON.stringify(r.out.slice(0, 300))})`);
    assert.ok(r.closed, `pipelined, ${what}: closed`);
    await upstreamSawNothing(`pipelined, ${what}`);
  }
  await stillServes();
});

test('Content-Length must be plain decimal digits that fit: 400 at once, never a wait', async () => {
  await setup();
  for (const cl of ['+2', '0x2', ' 2x', '2 2', '2\t2', '-1', '1e1', '99999999999999999999', '18446744073709551617', '9223372036854775808']) {
    await ctl.reset();
    const t0 = Date.now();
    const r = await exchange(kw.port, `POST /api/show HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${cl}\r\n\r\n{}`, 3000);
    assert.deepEqual(statuses(r.out), [400], `Content-Length: ${JSON.stringify(cl)} (${JSON.stringify(r.out.slice(0, 120))})`);
    assert.ok(r.closed, `Content-Length: ${cl}: closed`);
    assert.ok(Date.now() - t0 < 2500, `Content-Length: ${cl}: answered without waiting for a body`);
    await upstreamSawNothing(`Content-Length: ${cl}`);
  }
  // An empty value: evhttp drops the header line?  Either way: 400, closed.
  const empty = await exchange(kw.port, 'POST /api/show HTTP/1.1\r\nHost: localhost\r\nContent-Length:\r\n\r\n{}');
  assert.deepEqual(statuses(empty.out), [400], 'empty Content-Length');
  await stillServes();
});

test('Expect: 100-continue with a body over max_body_size gets 413 at once; unknown expectations 417', async () => {
  await setup({ KEEPWARM_MAX_BODY_SIZE: '1KiB' });
  const big = await exchange(kw.port, 'POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n');
  assert.deepEqual(statuses(big.out), [413], `oversized with Expect: ${JSON.stringify(big.out.slice(0, 200))}`);
  assert.doesNotMatch(big.out, /100 Continue/);
  assert.ok(big.closed, 'closed');
  assert.match(big.out, /"type":"api_error"/, 'an OpenAI error envelope on /v1');
  const body = '{"model":"m"}';
  const other = await exchange(kw.port, `POST /api/show HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${body.length}\r\nExpect: something-else\r\n\r\n${body}`);
  assert.deepEqual(statuses(other.out), [417]);
  assert.ok(other.closed, '417: closed');
  await stillServes();
  await upstreamSawNothing('the refused expectations');
  // Within the cap: 100 Continue, then the body, and the request goes through.
  const c = drip(kw.port, '', 0);
  try {
    c.socket.write(`POST /api/show HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`);
    await until(() => /\r\n\r\n/.test(c.out), '100 Continue', 2000);
    assert.match(c.out, /^HTTP\/1\.1 100 Continue/);
    c.socket.write(body);
    await until(() => statuses(c.out).length === 2, 'the answer after the body', 5000);
  } finally {
    c.stop();
  }
  const seen = (await ctl.requests()).filter((q) => q.path === '/api/show');
  assert.equal(seen.length, 1, 'the request within the cap reached Ollama');
  assert.equal(seen[0].body.model, 'm');
});

test('CONNECT and TRACE get 501 and the connection is closed', async () => {
  await setup();
  for (const m of ['CONNECT 127.0.0.1:11434 HTTP/1.1\r\nHost: 127.0.0.1:11434\r\n\r\n', 'TRACE / HTTP/1.1\r\nHost: localhost\r\n\r\n']) {
    const r = await exchange(kw.port, m);
    assert.deepEqual(statuses(r.out), [501], m.split(' ')[0]);
    assert.ok(r.closed, `${m.split(' ')[0]}: closed`);
  }
  await upstreamSawNothing('CONNECT, TRACE');
  await stillServes();
});

// Opens a socket that sends one byte of text every intervalMs, for ever (nothing for '': a
// socket the test writes on itself): { out, closed, socket, stop }.
function drip(port, text, intervalMs) {
  const s = net.connect(port, '127.0.0.1');
  const st = { out: '', closed: false, socket: s };
  let i = 0;
  const t = text ? setInterval(() => { if (!st.closed) s.write(text[i++ % text.length]); }, intervalMs) : null;
  s.on('data', (d) => { st.out += d; });
  s.on('close', () => { st.closed = true; clearInterval(t); });
  s.on('error', () => { st.closed = true; clearInterval(t); });
  st.stop = () => { clearInterval(t); s.destroy(); };
  return st;
}

test('slowloris: header_timeout bounds the whole head, so dripping sockets cannot hold max_connections', async () => {
  await setup({ KEEPWARM_MAX_CONNECTIONS: '8', KEEPWARM_HEADER_TIMEOUT: '1500ms' });
  const drips = Array.from({ length: 8 }, () => drip(kw.port, 'GET /healthz HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 300));
  try {
    // Each byte restarts idle_timeout (120 s), but the head's deadline does not move.
    const t0 = Date.now();
    const r = await fetch(`${kw.url}/healthz`, { signal: AbortSignal.timeout(8000) });
    assert.equal(r.status, 200, `/healthz is served while 8 sockets drip (${Date.now() - t0} ms)`);
    await sleep(300);
    for (const d of drips) {
      assert.ok(d.closed, 'every dripping socket was closed');
      assert.match(d.out, /^HTTP\/1\.1 408 /, 'with a 408');
    }
  } finally {
    for (const d of drips) d.stop();
  }
  // Sockets that connect and send nothing: the first head's deadline runs from accept.
  const silent = Array.from({ length: 8 }, () => drip(kw.port, '', 0));
  try {
    await sleep(200);
    const r = await exchange(kw.port, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n', 8000);
    assert.deepEqual(statuses(r.out), [200], 'a new connection is served while 8 sockets say nothing');
    await sleep(300);
    for (const d of silent) assert.ok(d.closed, 'every silent socket was closed');
  } finally {
    for (const d of silent) d.stop();
  }
  // A keep-alive connection's second request gets the deadline too.
  const c = drip(kw.port, '', 0);
  try {
    c.socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await sleep(300);
    assert.deepEqual(statuses(c.out), [200]);
    c.socket.write('GET /healthz HTTP/1.1\r\n');
    for (let i = 0; i < 12 && !c.closed; i++) { c.socket.write('X'); await sleep(250); }
    assert.ok(c.closed, 'the slow second head is cut');
    assert.deepEqual(statuses(c.out), [200, 408], kw.output.slice(-3000));
  } finally {
    c.stop();
  }
});

test('refused sockets lingering count in max_connections: a client refused again and again holds no more descriptors', async () => {
  await setup({ KEEPWARM_MAX_CONNECTIONS: '4' });
  const fds = () => fs.readdirSync(`/proc/${kw.child.pid}/fd`).length;
  await stillServes();
  const before = fds();
  // Each socket is refused (400) and then lingers (2 s): the client keeps its side open after
  // keepwarm's FIN (half-open, as a hostile client may).
  const bad = 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-A: a\x01b\r\n\r\n';
  const socks = Array.from({ length: 16 }, () => {
    const d = { out: '', socket: net.connect({ port: kw.port, host: '127.0.0.1', allowHalfOpen: true }) };
    d.socket.on('data', (x) => { d.out += x; });
    d.socket.on('error', () => {});
    d.stop = () => d.socket.destroy();
    d.socket.write(bad);
    return d;
  });
  try {
    await sleep(700); // several sweeps: without the count, accepting resumes under them
    const held = fds() - before;
    assert.ok(held <= 4 + 2, `at most max_connections client sockets open (${held} more descriptors)`);
    const answered = socks.filter((d) => /^HTTP\/1\.1 400 /.test(d.out)).length;
    assert.ok(answered >= 1 && answered <= 4, `the first ones are refused (${answered}), the rest wait`);
  } finally {
    for (const d of socks) d.stop();
  }
  await sleep(300);
  await stillServes();
});

test('body_timeout: a body dripped a byte at a time gets 408 and the connection is closed', async () => {
  await setup({ KEEPWARM_BODY_TIMEOUT: '1s' });
  const c = drip(kw.port, '', 0);
  try {
    c.socket.write('POST /api/show HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{');
    for (let i = 0; i < 16 && !c.closed; i++) { c.socket.write(' '); await sleep(250); }
    assert.ok(c.closed, 'the dripping body is cut');
    assert.match(c.out, /^HTTP\/1\.1 408 /);
  } finally {
    c.stop();
  }
  await upstreamSawNothing('a timed-out body');
  await stillServes();
});

test('memory amplification: a body whose JSON tree would cost too much is refused before it is built', async () => {
  await setup();
  const rssMB = () => Number(fs.readFileSync(`/proc/${kw.child.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]) / 1024;
  const stops = (n) => Array(n).fill('{}').join(',');
  // 12 MB of "stop":[{},{},...]: 4M values, ~900 MB as a jansson tree before this check.
  const body = `{"model":"llama3.2:3b","messages":[{"role":"user","content":"x"}],"stop":[${stops(4000000)}]}`;
  const r = await fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', body });
  assert.equal(r.status, 400);
  assert.match((await r.json()).error.message, /too many JSON values/);
  await upstreamSawNothing('the 12 MB body');
  assert.ok(rssMB() < 300, `keepwarm's RSS stays far below the tree's ~900 MB (${rssMB().toFixed(0)} MB)`);
  // Native bodies: the splice fast path relays them without a tree; the jansson path, when the
  // fast path declines, has the same cap. Either way keepwarm's memory stays bounded.
  const native = await fetch(`${kw.url}/api/chat`, { method: 'POST', body: body.replace('"stop"', '"options":{"stop"').replace(/\]\}$/, ']}}') });
  await native.text();
  assert.ok(rssMB() < 300, `native: RSS bounded (${rssMB().toFixed(0)} MB)`);
  // Just under the cap (costs 4 per object): parsed and relayed.
  const ok = await fetch(`${kw.url}/v1/chat/completions`, {
    method: 'POST',
    body: `{"model":"llama3.2:3b","messages":[{"role":"user","content":"x"}],"stop":[${stops(240000)}]}`,
  });
  assert.equal(ok.status, 200);
  await ok.text();
  await stillServes();
});

// HEAD then GET /healthz pipelined on one socket: the HEAD answer's head, and what follows it.
async function headThenGet(path, headers = '') {
  const r = await exchange(kw.port, `HEAD ${path} HTTP/1.1\r\nHost: localhost\r\n${headers}\r\nGET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n`, 1000);
  const end = r.out.indexOf('\r\n\r\n');
  return { head: r.out.slice(0, end), rest: r.out.slice(end + 4) };
}
const lengthOf = (head) => { const m = head.match(/\r\ncontent-length: (\d+)/i); return m ? Number(m[1]) : null; };

test('HEAD answers have the headers a GET would have, Content-Length included, and no body', async () => {
  await setup();
  for (const [path, status] of [['/healthz', 200], ['/readyz', 200], ['/metrics', 200], ['/nope', 404],
    ['/v1/nope', 404], ['/v1/chat/completions', 405], ['/', 200], ['/api/tags', 200], ['/api/version', 200]]) {
    const { head, rest } = await headThenGet(path);
    assert.match(head, new RegExp(`^HTTP/1\\.1 ${status} `), `HEAD ${path}`);
    assert.match(rest, /^HTTP\/1\.1 200 OK\r\n/, `HEAD ${path}: no body, the next answer follows the head (${JSON.stringify(rest.slice(0, 60))})`);
    assert.notEqual(lengthOf(head), null, `HEAD ${path}: Content-Length`);
    if (path !== '/metrics') {
      const get = await fetch(`${kw.url}${path}`);
      const body = await get.arrayBuffer();
      assert.equal(lengthOf(head), body.byteLength, `HEAD ${path}: the length of the body GET gets`);
    }
  }
  // Refused before routing: 401 without a key.
  const kw2 = await startKeepwarm(fake.url, ['--api-key', 'sk-1']);
  procs.push(kw2);
  const r = await exchange(kw2.port, 'HEAD /api/tags HTTP/1.1\r\nHost: localhost\r\n\r\nGET /healthz HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer sk-1\r\n\r\n', 1000);
  const end = r.out.indexOf('\r\n\r\n');
  assert.match(r.out, /^HTTP\/1\.1 401 /);
  assert.notEqual(lengthOf(r.out.slice(0, end)), null, 'HEAD 401: Content-Length');
  assert.match(r.out.slice(end + 4), /^HTTP\/1\.1 200 OK\r\n/, 'HEAD 401: no body');
});
