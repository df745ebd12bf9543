// keepwarm's own HTTP/1.1 client (proxy/upstream/upstream.c) against a raw TCP server that answers
// with exactly the bytes each test scripts: framings Go's net/http and proxies in front of
// Ollama produce (chunked with extensions and trailers, EOF-delimited, interim 1xx, split
// heads), kept-alive connections that die, and answers that break the caps.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startKeepwarm, startFake, sleep, until, parseSSE, metric, KEEPWARM_BIN, stopAll } from './harness.js';

const procs = [];
after(() => stopAll(procs));

// A server that hands each parsed request (line, headers, body) to script(req, sock, n) where n
// counts requests on that socket. /api/ps (the warm loop) gets an empty list (the last one is
// kept in srv.ps).
async function rawServer(script) {
  const srv = { connections: 0, closed: 0, requests: [] };
  const server = net.createServer((sock) => {
    srv.connections++;
    sock.on('close', () => { srv.closed++; });
    let buf = Buffer.alloc(0);
    let n = 0;
    sock.on('error', () => {});
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString();
        const m = /content-length: *(\d+)/i.exec(head);
        const len = m ? Number(m[1]) : 0;
        if (buf.length < end + 4 + len) return;
        const body = buf.subarray(end + 4, end + 4 + len).toString();
        buf = buf.subarray(end + 4 + len);
        const line = head.split('\r\n')[0];
        const req = { line, head, body };
        if (line.startsWith('GET /api/ps ')) {
          srv.ps = req;
          const j = '{"models":[]}';
          sock.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${j.length}\r\n\r\n${j}`);
          continue;
        }
        srv.requests.push(req);
        script(req, sock, ++n);
      }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  srv.url = `http://127.0.0.1:${server.address().port}`;
  srv.close = () => new Promise((r) => { server.close(r); server.unref(); });
  procs.push({ stop: () => srv.close() });
  return srv;
}

async function dribble(sock, text, ms = 1) {
  for (const ch of Buffer.from(text)) {
    if (sock.destroyed) return;
    sock.write(Buffer.from([ch]));
    await sleep(ms);
  }
}

async function kwFor(srv) {
  const kw = await startKeepwarm(srv.url);
  procs.push(kw);
  return kw;
}

test('a chunked answer dripped byte by byte, with chunk extensions and trailers, arrives whole', async () => {
  const payload = '{"models":[{"name":"a"},{"name":"b"}]}';
  const srv = await rawServer((req, sock) => {
    const a = payload.slice(0, 10), b = payload.slice(10);
    dribble(sock, 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n' +
      `${a.length.toString(16)};ext=1\r\n${a}\r\n${b.length.toString(16).toUpperCase()}\r\n${b}\r\n0\r\nX-Trailer: t\r\n\r\n`);
  });
  const kw = await kwFor(srv);
  const r = await fetch(`${kw.url}/api/tags`);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/json');
  assert.equal(await r.text(), payload);
  // the connection was kept: a second request reuses it
  const r2 = await fetch(`${kw.url}/api/tags`);
  assert.equal(await r2.text(), payload);
  assert.equal(srv.requests.length, 2);
});

test('an interim 100 head is skipped; an EOF-delimited answer ends at the close', async () => {
  const srv = await rawServer((req, sock) => {
    sock.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello ');
    setTimeout(() => sock.end('world'), 20);
  });
  const kw = await kwFor(srv);
  const r = await fetch(`${kw.url}/api/version`);
  assert.equal(r.status, 200);
  assert.equal(await r.text(), 'hello world');
  const r2 = await fetch(`${kw.url}/api/version`);
  assert.equal(await r2.text(), 'hello world');
  assert.ok(srv.connections >= 2, 'an EOF-delimited answer cannot leave its connection for reuse');
});

test('keep-alive: sequential requests share one connection; the request carries Host and Content-Length', async () => {
  const srv = await rawServer((req, sock) => {
    const j = JSON.stringify({ echo: req.body.length });
    sock.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${j.length}\r\n\r\n${j}`);
  });
  const kw = await kwFor(srv);
  for (let i = 0; i < 5; i++) {
    const r = await fetch(`${kw.url}/api/show`, { method: 'POST', body: '{"model":"m"}' });
    assert.deepEqual(await r.json(), { echo: 13 });
  }
  const req = srv.requests.at(-1);
  assert.match(req.line, /^POST \/api\/show HTTP\/1\.1$/);
  assert.match(req.head, new RegExp(`\r\nHost: ${srv.url.slice(7)}\r\n`, 'i'));
  assert.match(req.head, /\r\nContent-Length: 13\r\n/i);
  // one connection for the warm loop and the five requests (LIFO reuse)
  assert.ok(srv.connections <= 2, `connections: ${srv.connections}`);
});

test('a kept-alive connection that Ollama drops under the next request is retried once on a new one', async () => {
  let drops = 0;
  const srv = await rawServer((req, sock, n) => {
    if (n === 2 && drops++ === 0) { sock.destroy(); return; } // as if its idle timer fired
    sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  });
  const kw = await kwFor(srv);
  assert.equal(await (await fetch(`${kw.url}/api/version`)).text(), 'ok');
  const r = await fetch(`${kw.url}/api/version`);
  assert.equal(r.status, 200);
  assert.equal(await r.text(), 'ok');
  assert.equal(drops, 1);
});

test('a new connection closed before any answer is a 502, not a retry loop', async () => {
  const srv = await rawServer((req, sock) => sock.destroy());
  const kw = await kwFor(srv);
  const r = await fetch(`${kw.url}/api/version`);
  assert.equal(r.status, 502);
  assert.match((await r.json()).error, /closed the connection before answering/);
  // at most: the first try on the warm loop's kept-alive connection, its one retry on a new
  // connection, and the relay's one retry for a runner that died before answering
  assert.ok(srv.requests.length <= 3, `requests: ${srv.requests.length}`);
});

test('answer heads over 32 KiB, bad status lines, bad chunks and bad lengths: 502, and keepwarm serves on', async () => {
  const cases = {
    '/api/big': `HTTP/1.1 200 OK\r\nX-Big: ${'x'.repeat(40000)}\r\nContent-Length: 0\r\n\r\n`,
    '/api/status': 'HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n',
    '/api/chunk': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n',
    '/api/chunk2': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXX0\r\n\r\n',
    '/api/huge': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n',
    '/api/len': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello',
    '/api/header': 'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n',
  };
  const srv = await rawServer((req, sock) => {
    const path = req.line.split(' ')[1];
    if (cases[path]) sock.write(cases[path]);
    else sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  });
  const kw = await kwFor(srv);
  const want = {
    '/api/big': /headers exceed 32768 bytes/,
    '/api/status': /not HTTP\/1\.x/,
    '/api/chunk': /malformed chunk/,
    '/api/chunk2': /malformed chunk/,
    '/api/huge': /malformed chunk/,
    '/api/len': /conflicting Content-Lengths/,
    '/api/header': /malformed header line/,
  };
  for (const [path, re] of Object.entries(want)) {
    const r = await fetch(`${kw.url}${path}`);
    if (r.status === 200) {
      // a chunk error after the head: the stream is cut, never completed as if whole
      assert.ok(path.startsWith('/api/chunk'), `${path}: ${r.status}`);
      await assert.rejects(r.text(), path);
      continue;
    }
    const text = await r.text();
    assert.equal(r.status, 502, `${path}: ${text}`);
    assert.match(JSON.parse(text).error, re, path);
  }
  assert.equal(await (await fetch(`${kw.url}/api/version`)).text(), 'ok');
  assert.equal((await fetch(`${kw.url}/healthz`)).status, 200);
});

test('an endless answer head: 502 once it passes 32 KiB, with either client; a trailer never changes the answer\'s Content-Type', async () => {
  const srv = await rawServer((req, sock) => {
    const path = req.line.split(' ')[1];
    if (path === '/api/endless') {
      sock.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n');
      let sent = 0; // header lines for as long as keepwarm reads them (4 MiB at most)
      const more = () => {
        while (!sock.destroyed && sent < 4 << 20) {
          sent += 4096;
          if (!sock.write(`X-More: ${'m'.repeat(4086)}\r\n`)) return sock.once('drain', more);
        }
      };
      sock.on('error', () => {});
      more();
      return;
    }
    if (path === '/api/tags') { // a 500 held back for a retry, then passed on as Ollama sent it
      sock.write('HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n' +
        '10\r\n{"error":"boom"}\r\n0\r\nContent-Type: text/html\r\n\r\n');
      return;
    }
    sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  });
  const kw = await kwFor(srv);
  const r = await fetch(`${kw.url}/api/endless`, { signal: AbortSignal.timeout(10000) });
  const text = await r.text();
  assert.equal(r.status, 502, text);
  assert.match(JSON.parse(text).error, /headers exceed 32768 bytes/);
  const t = await fetch(`${kw.url}/api/tags`, { signal: AbortSignal.timeout(10000) });
  assert.equal(t.status, 500);
  assert.equal(t.headers.get('content-type'), 'application/json');
  assert.deepEqual(await t.json(), { error: 'boom' });
  assert.equal(await (await fetch(`${kw.url}/api/version`)).text(), 'ok');
});

test('a split head (status line and headers over many writes) is put together', async () => {
  const srv = await rawServer((req, sock) => {
    dribble(sock, 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"a":"b c"}', 0);
  });
  const kw = await kwFor(srv);
  const r = await fetch(`${kw.url}/api/version`);
  assert.deepEqual(await r.json(), { a: 'b c' });
});

test('out of descriptors: streams wait for a free connection instead of failing, and accepts rest', async () => {
  const fake = await startFake(['--token-delay', '15']);
  procs.push(fake);
  // 24 streams need 48 sockets plus keepwarm's own few: more than 40 descriptors
  const kw = await startKeepwarm(fake.url, [], {}, { prefix: ['prlimit', '--nofile=40:40'] });
  procs.push(kw);
  const body = JSON.stringify({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'x' }], stream: true });
  const runs = await Promise.all(Array.from({ length: 24 }, async () => {
    const r = await fetch(`${kw.url}/api/chat`, { method: 'POST', body });
    const text = await r.text();
    return { status: r.status, done: text.trim().split('\n').map((l) => JSON.parse(l)).at(-1).done };
  }));
  assert.deepEqual(runs.filter((r) => r.status !== 200 || !r.done), []);
  assert.match(kw.output, /out of descriptors/); // the waiting really happened
  assert.equal((await fetch(`${kw.url}/healthz`)).status, 200);
});

test('native answers of known length: whole with Content-Length up to 64 KiB, streamed beyond', async () => {
  const small = JSON.stringify({ x: 'y'.repeat(100) });
  const big = JSON.stringify({ x: 'z'.repeat(70000) });
  const srv = await rawServer((req, sock) => {
    const body = req.line.startsWith('GET /api/big ') ? big : small;
    sock.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  });
  const kw = await kwFor(srv);
  const a = await fetch(`${kw.url}/api/small`);
  assert.equal(a.headers.get('content-length'), String(small.length));
  assert.equal(a.headers.get('transfer-encoding'), null);
  assert.equal(await a.text(), small);
  const b = await fetch(`${kw.url}/api/big`);
  assert.equal(b.headers.get('content-length'), null);
  assert.equal(b.headers.get('transfer-encoding'), 'chunked');
  assert.equal(await b.text(), big);
});

test('a small answer of known length that breaks off is a clean 502, not a short 200', async () => {
  const srv = await rawServer((req, sock) => {
    sock.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"partial":');
    setTimeout(() => sock.destroy(), 30);
  });
  const kw = await kwFor(srv);
  const r = await fetch(`${kw.url}/api/show`, { method: 'POST', body: '{"model":"m"}' });
  assert.equal(r.status, 502);
  assert.match((await r.json()).error, /closed the connection mid-answer/);
});

test('a host name is resolved (localhost), and its connections are kept alive', async () => {
  const srv = await rawServer((req, sock) => sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
  const kw = await startKeepwarm(srv.url.replace('127.0.0.1', 'localhost'));
  procs.push(kw);
  for (let i = 0; i < 3; i++) assert.equal(await (await fetch(`${kw.url}/api/version`)).text(), 'ok');
  // the warm loop's polls and the three requests shared kept-alive connections to that address
  assert.ok(srv.connections <= 2, `connections: ${srv.connections}`);
});

test('out of descriptors: clients that leave while waiting are dropped from the queue; the rest finish', async () => {
  const fake = await startFake(['--token-delay', '15']);
  procs.push(fake);
  const kw = await startKeepwarm(fake.url, [], {}, { prefix: ['prlimit', '--nofile=40:40'] });
  procs.push(kw);
  const body = JSON.stringify({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'x' }], stream: true });
  const runs = await Promise.all(Array.from({ length: 24 }, async (_, i) => {
    const ac = new AbortController();
    if (i % 2) setTimeout(() => ac.abort(), 30); // half leave early, most of them while queued
    try {
      const r = await fetch(`${kw.url}/api/chat`, { method: 'POST', body, signal: ac.signal });
      const text = await r.text();
      return { i, status: r.status, done: text.trim().split('\n').map((l) => JSON.parse(l)).at(-1).done };
    } catch (e) {
      return { i, aborted: e.name === 'AbortError', error: String(e.cause || e) };
    }
  }));
  assert.deepEqual(runs.filter((r) => r.i % 2 === 0 && (r.status !== 200 || !r.done)), []);
  assert.ok(runs.filter((r) => r.aborted).length > 0, 'some clients left');
  assert.match(kw.output, /out of descriptors/);
  // the queue is empty again: a new stream goes straight through
  const r = await fetch(`${kw.url}/api/chat`, { method: 'POST', body });
  assert.equal(r.status, 200);
  assert.match(await r.text(), /"done":true/);
});

// Out of descriptors with kept-alive connections to Ollama lying idle: accept trades them, one
// per failed accept, for the clients waiting in the backlog (server.c on_accept_error,
// upstream_close_idle), instead of leaving those clients unaccepted while the descriptors idle.
test('out of descriptors: idle connections to Ollama are closed so that waiting clients are accepted', async () => {
  const IDLE = 8;
  const held = [];
  let release = false;
  const ok = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
  const srv = await rawServer((req, sock) => {
    if (release) return sock.write(ok);
    held.push(sock); // answered together, so that IDLE connections to Ollama are open at once
    if (held.length === IDLE) for (const s of held.splice(0)) s.write(ok);
  });
  const kw = await startKeepwarm(srv.url, ['--ping-interval', '1h'], {}, { prefix: ['prlimit', '--nofile=40:40'] });
  procs.push(kw);
  const clients = await Promise.all(Array.from({ length: IDLE }, () => rawClient(kw.port)));
  assert.deepEqual(await Promise.all(clients.map((c) => c.get('/api/version'))), Array(IDLE).fill({ status: 200, body: 'ok' }));
  assert.ok(srv.connections - srv.closed >= IDLE, 'the connections to Ollama are kept alive');
  // Clients that only ask keepwarm itself, one at a time, until one is left in the backlog.
  let waiting = null;
  for (let i = 0; i < 60 && !waiting; i++) {
    const c = await rawClient(kw.port); // connect() completes in the backlog, accepted or not
    clients.push(c);
    const answer = c.get('/healthz');
    if ((await Promise.race([answer.then((r) => r.status), sleep(1000)])) !== 200) waiting = answer;
  }
  assert.ok(waiting, 'the descriptors ran out');
  await until(() => srv.connections === srv.closed, 'every idle connection to Ollama given up for a client');
  // keepwarm serves on: two clients leave; the waiting one is accepted and answered, and a
  // request to Ollama gets a new connection with the other descriptor.
  clients.shift().sock.destroy();
  clients.shift().sock.destroy();
  assert.equal((await waiting).status, 200);
  release = true;
  assert.deepEqual(await clients.at(-1).get('/api/version'), { status: 200, body: 'ok' });
  for (const c of clients) c.sock.destroy();
});

// A keep-alive client connection to keepwarm sending raw requests; send(bytes) and get(path)
// resolve with the answer's status and body (lastHead() is its head) (keepwarm's answers here all carry Content-Length).
function rawClient(port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const waiting = [];
    let buf = Buffer.alloc(0);
    let lastHead = '';
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString();
        const len = Number((/\r\ncontent-length: *(\d+)/i.exec(head) || [0, -1])[1]);
        if (len < 0) { sock.destroy(new Error(`an answer without Content-Length: ${head}`)); return; }
        if (buf.length < end + 4 + len) return;
        const body = buf.subarray(end + 4, end + 4 + len).toString();
        buf = buf.subarray(end + 4 + len);
        lastHead = head;
        waiting.shift()?.resolve({ status: Number(head.split(' ')[1]), body });
      }
    });
    sock.on('error', (e) => { for (const w of waiting.splice(0)) w.reject(e); reject(e); });
    sock.on('close', () => { for (const w of waiting.splice(0)) w.reject(new Error('closed')); });
    const send = (bytes) => new Promise((res, rej) => {
      waiting.push({ resolve: res, reject: rej });
      sock.write(bytes);
    });
    const get = (p) => send(`GET ${p} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    sock.on('connect', () => resolve({ sock, send, get, lastHead: () => lastHead }));
  });
}

// This process's own open-file limit (node raises its soft limit to the hard one).
function ownNofile() {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
  return m && m[1] !== 'unlimited' ? Number(m[1]) : Infinity;
}

// FD_WAIT_MAX in proxy/upstream/upstream.c, reached for real: keepwarm gets 4,200 descriptors and first
// accepts 4,160 client connections (each proves it was accepted with a /healthz answer), so
// only a few dozen descriptors are left for connections to Ollama, which holds every request.
// Then every client sends a request: the first few get a connection, 4,096 wait for one, and
// the rest must fail at once, while nothing has come free yet.
const FD_WAIT_MAX = 4096;
const FD_CLIENTS = 4160;
test('out of descriptors: 4,096 requests wait, more get a 502 at once; the waiting are served as connections come free', {
  skip: ownNofile() < FD_CLIENTS + 500 ? `this process may open only ${ownNofile()} files` : false,
  timeout: 60000,
}, async () => {
  const held = [];
  let release = false;
  const answer = (sock, close) => {
    sock.write(`HTTP/1.1 200 OK\r\nContent-Length: 2\r\n${close ? 'Connection: close\r\n' : ''}\r\nok`);
    if (close) sock.end();
  };
  const srv = await rawServer((req, sock) => {
    if (release) answer(sock, false);
    else held.push(sock);
  });
  const kw = await startKeepwarm(srv.url, ['--ping-interval', '1h'], {}, { prefix: ['prlimit', `--nofile=${FD_CLIENTS + 40}:${FD_CLIENTS + 40}`] });
  procs.push(kw);
  const clients = [];
  procs.push({ stop: async () => { for (const c of clients) c.sock.destroy(); } });
  for (let i = 0; i < FD_CLIENTS; i += 520) { // in batches, well within the listen backlog
    const batch = await Promise.all(Array.from({ length: Math.min(520, FD_CLIENTS - i) }, () => rawClient(kw.port)));
    for (const r of await Promise.all(batch.map((c) => c.get('/healthz')))) assert.equal(r.status, 200);
    clients.push(...batch);
  }

  const refused = [];
  const outcomes = clients.map((c) => c.get('/api/version').then((r) => {
    if (r.status === 502) refused.push(r);
    return r;
  }));
  // Every request either holds one of the few connections, waits, or was refused.
  await until(() => held.length + refused.length >= FD_CLIENTS - FD_WAIT_MAX, 'the refusals', 30000);
  const connected = held.length;
  assert.ok(connected > 1 && connected < 40, `requests that got a connection: ${connected}`);
  assert.equal(refused.length, FD_CLIENTS - FD_WAIT_MAX - connected, 'exactly the requests beyond the queue were refused');
  for (const r of refused) {
    assert.deepEqual(JSON.parse(r.body), {
      error: `cannot reach Ollama at ${srv.url}: out of file descriptors, and too many requests are waiting for one`,
    });
  }
  assert.match(kw.output, /out of descriptors: requests wait/);

  // Ollama answers: half the connections close (a waiting request gets the descriptor), half
  // are kept alive (a waiting request gets the connection itself).
  release = true;
  held.forEach((sock, i) => answer(sock, i % 2 === 1));
  const all = await Promise.all(outcomes);
  const ok = all.filter((r) => r.status === 200 && r.body === 'ok').length;
  assert.equal(ok, connected + FD_WAIT_MAX, 'every waiting request was served');
  assert.equal(all.length - ok, refused.length);
  assert.equal(srv.requests.length, connected + FD_WAIT_MAX);

  // The queue is empty again: a new request goes straight through.
  const after = await clients[0].get('/api/version');
  assert.deepEqual(after, { status: 200, body: 'ok' });
  assert.equal((await clients[1].get('/healthz')).status, 200);
  // (on a client's connection: keepwarm's descriptors are all still in use, so it cannot accept)
  const metrics = await clients[2].get('/metrics');
  assert.match(metrics.body, new RegExp(`\nkeepwarm_upstream_errors_total\\{kind="refused"\\} ${refused.length}\n`));
});

// REQ_HEAD_MAX in proxy/upstream/upstream.c (64 KiB, the head keepwarm sends Ollama) is reachable from
// a client: evhttp's own cap (64 KiB, server.c) counts the request line and header lines
// without their CRLFs, while the forwarded head adds them back, a space after each colon, the
// Host line and " HTTP/1.1\r\n": with 64 forwarded headers (relay.c forwards at most 64) sent
// as "Name:value", that is 219 bytes more than evhttp counted.
test('a forwarded request head over 64 KiB: a clear error (exactly 64 KiB goes through), keepwarm serves on', async () => {
  const REQ_HEAD_MAX = 64 * 1024;
  const srv = await rawServer((req, sock) => sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
  const kw = await kwFor(srv);
  const headers = [['X-Request-Id', 'head-cap'], ...Array.from({ length: 63 }, (_, i) => [`X-Fill-${i}`, 'v'])];
  // The client's request for a forwarded head of exactly `size` bytes, and evhttp's count of it.
  const request = (size) => {
    const fixed = `GET /api/tags?q= HTTP/1.1\r\nHost: ${srv.url.slice(7)}\r\n`.length +
      headers.reduce((n, [k, v]) => n + `${k}: ${v}\r\n`.length, 0) + 2;
    const line = `GET /api/tags?q=${'x'.repeat(size - fixed)} HTTP/1.1`;
    const lines = [...headers.map(([k, v]) => `${k}:${v}`), 'Host:::1']; // 1.1 needs a Host
    return { bytes: `${line}\r\n${lines.join('\r\n')}\r\n\r\n`, counted: [line, ...lines].join('').length };
  };
  const c = await rawClient(kw.port);

  const fits = request(REQ_HEAD_MAX);
  assert.deepEqual(await c.send(fits.bytes), { status: 200, body: 'ok' });
  assert.equal(srv.requests.at(-1).head.length + 4, REQ_HEAD_MAX, 'Ollama got a head of exactly 64 KiB');

  const over = request(REQ_HEAD_MAX + 1);
  assert.ok(over.counted <= 64 * 1024, `within evhttp's cap (${over.counted} bytes)`);
  const n = srv.requests.length;
  // the client's fault, not Ollama's (a 502 would also send nginx on to the next keepwarm)
  assert.deepEqual(await c.send(over.bytes), { status: 431, body: '{"error":"request headers too large"}' });
  assert.equal(srv.requests.length, n, 'nothing was sent to Ollama');
  // a bare CR in the URI, which evhttp lets through and Ollama must not get, is the client's fault
  // too: the front door refuses it and closes that connection (frontdoor.test.js)
  const bare = await rawClient(kw.port);
  assert.deepEqual(await bare.send('GET /api/tags?a\rb HTTP/1.1\r\n\r\n'), { status: 400, body: '{"error":"bare CR in the request head"}' });
  assert.equal(srv.requests.length, n, 'nothing was sent to Ollama');

  // the same connection, and a new one, are served on
  assert.deepEqual(await c.get('/api/version'), { status: 200, body: 'ok' });
  assert.equal((await fetch(`${kw.url}/healthz`)).status, 200);
});

// MAX_FWD_HEADERS in proxy/net/relay.c: at most 64 of the client's headers go to Ollama, and the
// request id (the client's or keepwarm's) is always one of them.
test('a client with more than 64 headers: the first 64 go to Ollama, the request id always among them', async () => {
  const srv = await rawServer((req, sock) => sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
  const kw = await kwFor(srv);
  const names = Array.from({ length: 70 }, (_, i) => `X-H-${i}`);
  const sent = (rid) => `GET /api/version HTTP/1.1\r\n${names.map((k) => `${k}:v\r\n`).join('')}${rid ? `X-Request-Id:${rid}\r\n` : ''}Host:localhost\r\n\r\n`;
  const forwarded = () => srv.requests.at(-1).head.split('\r\n').slice(1).map((l) => l.slice(0, l.indexOf(':')));
  const c = await rawClient(kw.port);
  for (const rid of [undefined, 'last-of-71']) { // keepwarm's own id, then the client's, sent last
    const r = await c.send(sent(rid));
    assert.deepEqual(r, { status: 200, body: 'ok' });
    assert.deepEqual(forwarded(), ['Host', 'X-Request-Id', ...names.slice(0, 63)]);
    const echoed = /\r\nX-Request-Id: ([^\r]+)/i.exec(c.lastHead())[1];
    assert.equal(echoed, rid ?? echoed);
    assert.match(srv.requests.at(-1).head, new RegExp(`\r\nX-Request-Id: ${echoed}\r\n`), 'Ollama got the id the client got');
  }
});

test('a name that does not resolve: 502 saying so, looked up off the event loop, keepwarm serves on', async () => {
  const kw = await startKeepwarm('http://no-such-host.invalid:11434');
  procs.push(kw);
  const r = await fetch(`${kw.url}/api/tags`);
  assert.equal(r.status, 502);
  assert.match((await r.json()).error, /cannot resolve no-such-host\.invalid/);
  assert.equal((await fetch(`${kw.url}/healthz`)).status, 200);
  const ready = await fetch(`${kw.url}/readyz`);
  assert.equal(ready.status, 503);
});

// ---- a hostile or broken Ollama (issue 12) ----

// A raw client connection: sends bytes, collects everything keepwarm sends until it closes the
// connection or ms pass ({ data, closed }): a clean chunked end and a cut connection differ
// only in bytes a client library hides. opts.pauseMs: reads nothing that long first;
// opts.done(data): resolves as soon as it holds.
function exchange(port, bytes, ms = 3000, opts = {}) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks = [];
    const text = () => Buffer.concat(chunks).toString('latin1');
    const timer = setTimeout(() => { resolve({ data: text(), closed: false }); sock.destroy(); }, ms);
    sock.on('data', (d) => {
      chunks.push(d);
      if (opts.done && opts.done(d)) { clearTimeout(timer); resolve({ data: text(), closed: false }); sock.destroy(); }
    });
    sock.on('error', () => {});
    sock.on('close', () => { clearTimeout(timer); resolve({ data: text(), closed: true }); });
    sock.on('connect', () => {
      sock.write(bytes);
      if (opts.pauseMs) { sock.pause(); setTimeout(() => sock.resume(), opts.pauseMs); }
    });
  });
}

const LAST_CHUNK = /(^|\r\n)0\r\n\r\n/;
const chatLine = (content, done = false) => `${JSON.stringify({ model: 'm', created_at: '2024-01-01T00:00:00Z', message: { role: 'assistant', content }, done })}\n`;
const chatBody = (marker, extra = {}) => JSON.stringify({ model: 'm', messages: [{ role: 'user', content: marker }], ...extra });

test('Ollama dies mid-body: a native answer is cut (no last chunk, nothing appended), an OpenAI stream gets an error event and no half line', async () => {
  const line1 = chatLine('Hel');
  const half = chatLine('lo').slice(0, 30);
  const big = 'x'.repeat(70000);
  const srv = await rawServer((req, sock) => {
    const path = req.line.split(' ')[1];
    if (path === '/api/chat') { // an NDJSON stream (native, or behind /v1) cut inside a chunk, mid-line
      sock.write('HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n' +
        `${line1.length.toString(16)}\r\n${line1}\r\n${(half.length + 40).toString(16)}\r\n${half}`);
    } else if (path === '/api/show') { // a non-stream answer over 64 KiB with a Content-Length, cut short
      sock.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${big.length + 20}\r\n\r\n{"license":"${big}`);
    } else { // GET /: plain text, chunked, cut
      sock.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n11\r\nOllama is ');
    }
    setTimeout(() => sock.destroy(), 50);
  });
  const kw = await kwFor(srv);
  const host = `127.0.0.1:${kw.port}`;
  const chat = chatBody('native');
  const cases = {
    '/api/chat': [`POST /api/chat HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${chat.length}\r\n\r\n${chat}`, line1],
    '/api/show': [`POST /api/show HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 13\r\n\r\n{"model":"m"}`, big.slice(0, 1000)],
    '/': [`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 'Ollama is '],
  };
  for (const [path, [bytes, part]] of Object.entries(cases)) {
    const { data, closed } = await exchange(kw.port, bytes);
    assert.match(data, /^HTTP\/1\.1 200 /, path);
    assert.ok(closed, `${path}: the client's connection is closed, not kept for the next request`);
    assert.doesNotMatch(data, LAST_CHUNK, `${path}: no last chunk: the client cannot take it for whole`);
    assert.ok(data.includes(part), `${path}: what came before the break was passed on`);
    assert.ok(!data.includes('"error"'), `${path}: nothing appended to a half line`);
  }
  // a client library sees a transport error
  const r = await fetch(`${kw.url}/api/chat`, { method: 'POST', body: chat });
  assert.equal(r.status, 200);
  await assert.rejects(r.text());
  // /v1: an SSE error event, then the end; every data line is a whole event
  const s = await fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', body: chatBody('sse', { stream: true }) });
  assert.equal(s.status, 200);
  const events = parseSSE(await s.text());
  assert.equal(events[0].choices[0].delta.content, 'Hel');
  assert.match(events.at(-1).error.message, /closed the connection mid-answer/);
  assert.ok(!events.includes('[DONE]'));
  assert.equal((await fetch(`${kw.url}/healthz`)).status, 200);
});

test('an unasked 101 Switching Protocols: 502 at once in the endpoint\'s format, that connection closed and never reused; Upgrade never reaches Ollama', async () => {
  let upgradedOpen = 0;
  const srv = await rawServer((req, sock) => {
    const path = req.line.split(' ')[1];
    if (path === '/api/version' || path === '/api/tags') {
      upgradedOpen++;
      sock.once('close', () => { upgradedOpen--; });
      // then it speaks something else on that connection, and keeps it open
      sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello');
      return;
    }
    sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  });
  const kw = await kwFor(srv);
  const c = await rawClient(kw.port);
  const answer = await Promise.race([
    c.send('GET /api/version HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'),
    sleep(5000).then(() => 'no answer'),
  ]);
  assert.equal(answer.status, 502, JSON.stringify(answer));
  assert.match(JSON.parse(answer.body).error, /switched protocols \(101\)/);
  assert.doesNotMatch(srv.requests.at(-1).head, /\r\n(upgrade|connection):/i, 'keepwarm asked for no upgrade');
  const v1 = await fetch(`${kw.url}/v1/models`, { signal: AbortSignal.timeout(5000) });
  assert.equal(v1.status, 502);
  assert.equal((await v1.json()).error.type, 'api_error');
  await until(() => upgradedOpen === 0, 'keepwarm closing the connections that switched protocols');
  // and serves on, on connections that still speak HTTP
  assert.deepEqual(await c.get('/api/other'), { status: 200, body: 'ok' });
  c.sock.destroy();
});

test('read_timeout: a silent Ollama gets 504 before the answer, a cut after it; a slow trickle is not cut; the warm loop and /readyz give up too', async () => {
  const srv = await rawServer((req, sock) => {
    const body = req.body;
    const head = (ct) => `HTTP/1.1 200 OK\r\nContent-Type: ${ct}\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const chunk = (s) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;
    if (body.includes('silent')) return; // never answers
    if (body.includes('stalls')) { // one line, then nothing
      sock.write(head('application/x-ndjson') + chunk(chatLine('Hel')));
      return;
    }
    if (body.includes('flood')) { // 16 MiB at once: the client, slow to read, has it paused
      const line = chatLine('x'.repeat(1000));
      sock.write(head('application/x-ndjson') + chunk(line.repeat(16 * 1024)) + chunk(chatLine('', true)) + '0\r\n\r\n');
      return;
    }
    if (body.includes('trickle')) { // a line every 300 ms for 1.5 s: never 500 ms of silence
      sock.write(head('application/x-ndjson'));
      let i = 0;
      const t = setInterval(() => {
        if (sock.destroyed) return clearInterval(t);
        if (++i < 5) return sock.write(chunk(chatLine(`t${i}`)));
        clearInterval(t);
        sock.write(chunk(chatLine('', true)) + '0\r\n\r\n');
      }, 300);
      return;
    }
    sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  });
  const kw = await startKeepwarm(srv.url, [], { KEEPWARM_READ_TIMEOUT: '500ms' });
  procs.push(kw);
  const post = (p, b) => fetch(`${kw.url}${p}`, { method: 'POST', body: b, signal: AbortSignal.timeout(5000) });

  const n = await post('/api/chat', chatBody('silent', { stream: false }));
  assert.equal(n.status, 504);
  assert.match((await n.json()).error, /did not answer in time: Ollama sent nothing for 500 ms \(read_timeout\)/);
  const o = await post('/v1/chat/completions', chatBody('silent'));
  assert.equal(o.status, 504);
  const oe = await o.json();
  assert.match(oe.error.message, /sent nothing for 500 ms/);
  assert.equal(oe.error.type, 'api_error');

  const cut = await post('/api/chat', chatBody('stalls'));
  assert.equal(cut.status, 200);
  await assert.rejects(cut.text(), (e) => e.name !== 'TimeoutError' && e.name !== 'AbortError', 'cut by keepwarm, not by the test');
  const sse = await post('/v1/chat/completions', chatBody('stalls', { stream: true }));
  const events = parseSSE(await sse.text());
  assert.equal(events[0].choices[0].delta.content, 'Hel');
  assert.match(events.at(-1).error.message, /sent nothing for 500 ms/);

  const slow = await post('/api/chat', chatBody('trickle'));
  const lines = (await slow.text()).trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 5);
  assert.equal(lines.at(-1).done, true);

  // A client that reads nothing for 1.5 s holds Ollama's transfer paused: not Ollama's silence.
  const flood = chatBody('flood');
  const { data } = await exchange(kw.port, `POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${flood.length}\r\n\r\n${flood}`,
    10000, { pauseMs: 1500, done: (d) => d.toString('latin1').endsWith('\r\n0\r\n\r\n') });
  assert.ok(data.endsWith('\r\n0\r\n\r\n'), 'the whole answer came, with its last chunk');
  assert.ok(data.length > 16 * 1024 * 1000);
  assert.ok(await metric(kw, /^keepwarm_upstream_pauses_total (\d+)/m) > 0, 'the transfer was paused');

  // An Ollama that accepts and never answers: the warm loop's /api/ps and /readyz's probe
  // give up as well (and /readyz says not ready), instead of waiting for ever.
  const silentSocks = [];
  const silent = net.createServer((sock) => { sock.on('error', () => {}); silentSocks.push(sock); });
  await new Promise((r) => silent.listen(0, '127.0.0.1', r));
  procs.push({ stop: () => new Promise((r) => { for (const s of silentSocks) s.destroy(); silent.close(r); silent.unref(); }) });
  const kw2 = await startKeepwarm(`http://127.0.0.1:${silent.address().port}`, [], { KEEPWARM_READ_TIMEOUT: '500ms' });
  procs.push(kw2);
  const ready = await fetch(`${kw2.url}/readyz`, { signal: AbortSignal.timeout(5000) });
  assert.equal(ready.status, 503);
  await until(async () => {
    const st = await (await fetch(`${kw2.url}/status`)).json();
    return /sent nothing for 500 ms/.test(st.upstream.error);
  }, 'the warm loop giving up on /api/ps');
});

test('answers that fail to parse, resets and crashed runners: model management is sent to Ollama exactly once; reads and inference may be retried', async () => {
  const count = {};
  const srv = await rawServer((req, sock) => {
    const [method, target] = req.line.split(' ');
    const [path, query] = target.split('?f=');
    const how = query || (/"content":"f:(\w+)"/.exec(req.body) || [])[1]; // keepwarm's own /api/chat path has no query
    const key = `${method} ${path} ${how}`;
    count[key] = (count[key] || 0) + 1;
    if (how === 'garbage') sock.write('SSH-2.0-OpenSSH_9.6\r\n\r\n');
    else if (how === 'chunk') sock.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
    else if (how === 'reset') sock.destroy();
    else if (how === 'crash') {
      const j = '{"error":"llama runner process has terminated: exit status 2"}';
      sock.write(`HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: ${j.length}\r\n\r\n${j}`);
    } else sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  });
  const kw = await startKeepwarm(srv.url, ['--ping-interval', '1h']);
  procs.push(kw);
  const unsafe = [['POST', '/api/create'], ['POST', '/api/pull'], ['POST', '/api/push'], ['POST', '/api/copy'],
    ['DELETE', '/api/delete'], ['POST', '/api/blobs/sha256:0123'], ['PUT', '/api/anything']];
  for (const [method, path] of unsafe) {
    for (const how of ['garbage', 'chunk', 'reset', 'crash']) {
      // a kept-alive connection first, so that the failing request goes out on a reused one
      assert.equal(await (await fetch(`${kw.url}/api/version?f=ok`)).text(), 'ok');
      const r = await fetch(`${kw.url}${path}?f=${how}`, { method, body: '{"model":"m"}', signal: AbortSignal.timeout(5000) });
      assert.equal(r.status, how === 'crash' ? 500 : 502, `${method} ${path} ${how}`);
      await r.text();
    }
  }
  const repeated = Object.entries(count).filter(([k, v]) => !k.includes(' ok') && v !== 1);
  assert.deepEqual(repeated, [], 'each was sent once');
  // the rule is not "never": a read and an inference request are retried
  await fetch(`${kw.url}/api/version?f=ok`);
  assert.equal((await fetch(`${kw.url}/api/tags?f=reset`)).status, 502);
  assert.ok(count['GET /api/tags reset'] >= 2, `GET retried: ${count['GET /api/tags reset']}`);
  assert.equal((await fetch(`${kw.url}/api/chat?f=crash`, { method: 'POST', body: chatBody('f:crash', { stream: false }) })).status, 500);
  assert.equal(count['POST /api/chat crash'], 2, 'inference retried once after a runner crash');
  // garbage is never retried, even for a read
  assert.equal((await fetch(`${kw.url}/api/tags?f=garbage`)).status, 502);
  assert.equal(count['GET /api/tags garbage'], 1);
});

test('a warm-loop load ping on a kept-alive connection that Ollama closes under it is sent again, fresh (pings are harmless to repeat)', async () => {
  let drops = 0;
  const srv = await rawServer((req, sock) => {
    if (req.line.startsWith('POST /api/generate') && drops === 0) { drops++; sock.destroy(); return; }
    sock.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{"done":true}  ');
  });
  // the round's /api/ps leaves its connection idle; the ping takes it (LIFO)
  const kw = await startKeepwarm(srv.url, ['--pin', 'm:1b', '--ping-interval', '1h']);
  procs.push(kw);
  const st = await until(async () => {
    const s = await (await fetch(`${kw.url}/status`)).json();
    const m = s.models.find((x) => x.name === 'm:1b');
    return m && m.last_ping && m;
  }, 'the first ping');
  assert.equal(drops, 1);
  assert.equal(st.pings_failed, 0);
  assert.ok(st.pings_ok >= 1);
});

// ---- framing defects (issue 15) ----

test('a reset under a body framed by the connection\'s end is a cut, never a complete answer', async () => {
  const srv = await rawServer((req, sock) => {
    sock.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"b":');
    setTimeout(() => sock.resetAndDestroy(), 100);
  });
  const kw = await kwFor(srv);
  const { data, closed } = await exchange(kw.port, `GET /api/tags HTTP/1.1\r\nHost: 127.0.0.1:${kw.port}\r\n\r\n`);
  if (/^HTTP\/1\.1 200 /.test(data)) {
    assert.ok(closed, 'the client\'s connection is cut');
    assert.doesNotMatch(data, LAST_CHUNK, 'no last chunk: the client cannot take {"b": for whole');
    assert.doesNotMatch(data, /\r\nContent-Length: 5\r\n/i, 'not passed on as a whole 5-byte answer');
  } else {
    assert.match(data, /^HTTP\/1\.1 502 /, data);
  }
  // a clean close still ends such a body
  const fin = await rawServer((req, sock) => { sock.end('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"b":1}'); });
  const kw2 = await kwFor(fin);
  assert.deepEqual(await (await fetch(`${kw2.url}/api/tags`)).json(), { b: 1 });
});

test('Transfer-Encoding and Content-Length together: chunked frames the body and the connection is closed after it', async () => {
  let closedTE = 0;
  const srv = await rawServer((req, sock) => {
    if (req.line.startsWith('GET /api/tags ')) {
      sock.once('close', () => { closedTE++; });
      sock.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nContent-Length: 100\r\n\r\n7\r\n{"a":1}\r\n0\r\n\r\n');
      return;
    }
    sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  });
  const kw = await kwFor(srv);
  const r = await fetch(`${kw.url}/api/tags`);
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { a: 1 });
  await until(() => closedTE === 1, 'keepwarm closing the connection that carried both framings');
  assert.equal(await (await fetch(`${kw.url}/api/version`)).text(), 'ok');
});

test('a Transfer-Encoding other than chunked (gzip, chunked; chunked, gzip): 502, coded bytes never passed on', async () => {
  const zlib = await import('node:zlib');
  const gz = zlib.gzipSync('{"a":1}');
  const srv = await rawServer((req, sock) => {
    const te = req.line.includes('/api/tags') ? 'gzip, chunked' : req.line.includes('/api/ps2') ? 'chunked, gzip' : 'gzip';
    sock.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: ${te}\r\n\r\n`);
    sock.write(Buffer.concat([Buffer.from(`${gz.length.toString(16)}\r\n`), gz, Buffer.from('\r\n0\r\n\r\n')]));
    setTimeout(() => sock.end(), 50);
  });
  const kw = await kwFor(srv);
  for (const path of ['/api/tags', '/api/ps2', '/api/version']) {
    const r = await fetch(`${kw.url}${path}`, { signal: AbortSignal.timeout(5000) });
    const text = await r.text();
    assert.equal(r.status, 502, `${path}: ${text}`);
    assert.match(JSON.parse(text).error, /Transfer-Encoding other than chunked/, path);
  }
});

test('after a chunk size only ";ext" or the line\'s end: other bytes are a broken answer, not an extension', async () => {
  const srv = await rawServer((req, sock) => {
    const path = req.line.split(' ')[1];
    const size = { '/api/zz': '2zz', '/api/sp': '2 x', '/api/ok': '2 ;name=v', '/api/tab': '2\t' }[path];
    sock.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n${size}\r\nab\r\n0\r\n\r\n`);
  });
  const kw = await kwFor(srv);
  for (const path of ['/api/zz', '/api/sp']) {
    const r = await fetch(`${kw.url}${path}`, { signal: AbortSignal.timeout(5000) });
    if (r.status === 200) {
      await assert.rejects(r.text(), `${path}: cut, not completed`);
      continue;
    }
    assert.equal(r.status, 502, path);
    assert.match((await r.json()).error, /malformed chunk/, path);
  }
  for (const path of ['/api/ok', '/api/tab']) {
    const r = await fetch(`${kw.url}${path}`);
    assert.equal(await r.text(), 'ab', `${path}: an extension or blanks after the size are fine`);
  }
});

test('a header line with a blank before its colon ("Content-Length : 2") is a broken answer: 502, not a body to the close', async () => {
  const srv = await rawServer((req, sock) => {
    const path = req.line.split(' ')[1];
    const head = path === '/api/fold' ? 'Content-Type: text/plain\r\n folded: x\r\nContent-Length: 2' : 'Content-Length : 2';
    sock.write(`HTTP/1.1 200 OK\r\n${head}\r\n\r\nok`);
    setTimeout(() => sock.end(), 100);
  });
  const kw = await kwFor(srv);
  for (const path of ['/api/version', '/api/fold']) {
    const r = await fetch(`${kw.url}${path}`, { signal: AbortSignal.timeout(5000) });
    const text = await r.text();
    assert.equal(r.status, 502, `${path}: ${text}`);
    assert.match(JSON.parse(text).error, /malformed header line/, path);
  }
});

// ---- credentials for an Ollama behind a proxy (issue 15) ----

const headerValues = (head, name) => head.split('\r\n').slice(1)
  .filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`)).map((l) => l.slice(name.length + 1).trim());

test('credentials: user:password in the URL goes as Basic auth, upstream_header on every request (the warm loop\'s too) replacing a client\'s; neither logged nor shown', async () => {
  const srv = await rawServer((req, sock) => {
    sock.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kw-cred-'));
  const ini = path.join(dir, 'keepwarm.ini');
  fs.writeFileSync(ini, '[keepwarm]\nupstream_header = X-Tenant: good, with, commas\nupstream_header = X-Api-Key:   k-file-secret  \n');
  const port = srv.url.split(':').at(-1);
  const url = `http://al%69ce:pa%3Ass%40w@127.0.0.1:${port}`;
  const kw = await startKeepwarm(url, ['-c', ini, '--log-level', 'debug']);
  procs.push(kw);
  const r = await fetch(`${kw.url}/api/tags`, { headers: { 'X-Tenant': 'evil', 'x-api-key': 'client-key' } });
  assert.equal(r.status, 200);
  const head = srv.requests.at(-1).head;
  assert.deepEqual(headerValues(head, 'X-Tenant'), ['good, with, commas'], 'one header per line, commas kept; the client\'s replaced');
  assert.deepEqual(headerValues(head, 'X-Api-Key'), ['k-file-secret']);
  assert.deepEqual(headerValues(head, 'Authorization'), [`Basic ${Buffer.from('alice:pa:ss@w').toString('base64')}`], 'percent-decoded');
  assert.deepEqual(headerValues(head, 'Host'), [`127.0.0.1:${port}`], 'no user info in Host');
  await until(() => srv.ps, 'the warm loop\'s /api/ps');
  assert.deepEqual(headerValues(srv.ps.head, 'X-Api-Key'), ['k-file-secret'], 'the warm loop sends them too');
  assert.equal(headerValues(srv.ps.head, 'Authorization').length, 1);
  // the URL as shown everywhere: the password replaced (here an Ollama that is not there)
  const gone = net.createServer();
  await new Promise((res) => gone.listen(0, '127.0.0.1', res));
  const gonePort = gone.address().port;
  await new Promise((res) => gone.close(res));
  const kwDown = await startKeepwarm(`http://al%69ce:pa%3Ass%40w@127.0.0.1:${gonePort}`, ['--log-level', 'debug']);
  procs.push(kwDown);
  const fail = await fetch(`${kwDown.url}/api/tags`);
  assert.equal(fail.status, 502);
  const msg = (await fail.json()).error;
  assert.match(msg, new RegExp(`al%69ce:\\*\\*\\*@127\\.0\\.0\\.1:${gonePort}`));
  // the request above logged one already: wait for the warm loop's too
  await until(() => (kwDown.output.match(/upstream transfer failed/g) || []).length >= 2, 'the warm loop failing again (a debug line)');
  const status = await (await fetch(`${kw.url}/status`)).text();
  assert.match(status, /al%69ce:\*\*\*@/);
  const check = execFileSync(KEEPWARM_BIN, ['-c', ini, '--upstream', url, '--check'], { env: { PATH: process.env.PATH } }).toString();
  assert.match(check, /upstream http:\/\/al%69ce:\*\*\*@127\.0\.0\.1/);
  for (const [where, text] of [['log', kw.output + kwDown.output], ['502', msg], ['/status', status], ['--check', check]]) {
    for (const secret of ['pa%3Ass', 'pa:ss', 'k-file-secret', 'good, with', Buffer.from('alice:pa:ss@w').toString('base64')]) {
      assert.ok(!text.includes(secret), `${where} shows ${secret}`);
    }
  }
  // KEEPWARM_UPSTREAM_HEADER: several, one per line; an Authorization there wins over the URL's
  const kw2 = await startKeepwarm(url, [], { KEEPWARM_UPSTREAM_HEADER: 'Authorization: Bearer tok-env\nX-Env: e2\n' });
  procs.push(kw2);
  await fetch(`${kw2.url}/api/tags`, { headers: { Authorization: 'Bearer client' } });
  const head2 = srv.requests.at(-1).head;
  assert.deepEqual(headerValues(head2, 'Authorization'), ['Bearer tok-env']);
  assert.deepEqual(headerValues(head2, 'X-Env'), ['e2']);
  // a header that cannot be sent is refused at startup, without echoing the value
  for (const bad of ['X-A: 1\rsecretvalue', 'X A: secretvalue', 'Host: secretvalue', 'Content-Length : secretvalue', 'no-colon-secretvalue']) {
    let out = '';
    try {
      execFileSync(KEEPWARM_BIN, ['--check'], { env: { PATH: process.env.PATH, KEEPWARM_UPSTREAM_HEADER: bad }, stdio: 'pipe' });
      assert.fail(`accepted ${JSON.stringify(bad)}`);
    } catch (e) {
      assert.equal(e.status, 2, JSON.stringify(bad));
      out = e.stderr.toString();
    }
    assert.match(out, /KEEPWARM_UPSTREAM_HEADER: upstream_header: /);
    assert.ok(!out.includes('secretvalue'), out);
  }
});

// ---- dead peers (issue 15) ----

test('every connection to Ollama has TCP keepalive (probes after 30 s of silence); one idle past upstream_idle_timeout is closed and the next request opens a new one', async () => {
  const srv = await rawServer((req, sock) => sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
  const kw = await startKeepwarm(srv.url, ['--ping-interval', '1h'], { KEEPWARM_UPSTREAM_IDLE_TIMEOUT: '1s' });
  procs.push(kw);
  assert.equal(await (await fetch(`${kw.url}/api/version`)).text(), 'ok');
  // the kernel's keepalive timer on keepwarm's side of the kept-alive connection
  const port = srv.url.split(':').at(-1);
  const ss = execFileSync('ss', ['-tnoH', 'state', 'established', `( dport = :${port} )`]).toString();
  const m = /timer:\(keepalive,(\d+)(min|sec)/.exec(ss);
  assert.ok(m, `no keepalive timer: ${ss}`);
  assert.ok(m[2] === 'sec' && Number(m[1]) <= 30, ss);
  // the idle connections are closed by keepwarm once idle for 1 s, without a request
  await until(() => srv.connections > 0 && srv.closed === srv.connections, 'keepwarm closing its idle connections');
  const before = srv.connections;
  assert.equal(await (await fetch(`${kw.url}/api/version`)).text(), 'ok');
  assert.equal(srv.connections, before + 1, 'a new connection');
});

// A name with two loopback addresses, in the order keepwarm's getaddrinfo gives them, and the
// prefix keepwarm must run under to see it: localhost if it has two here, else a name of its
// own in a hosts file bound over /etc/hosts in an unprivileged user and mount namespace
// (unshare -rm; glibc reads no other hosts file); else { why }.
async function twoAddressName() {
  const dns = await import('node:dns');
  const addrs = await dns.promises.lookup('localhost', { all: true, verbatim: true });
  if (addrs.length >= 2) return { name: 'localhost', addrs, prefix: [] };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kw-hosts-'));
  procs.push({ stop: async () => fs.rmSync(dir, { recursive: true, force: true }) });
  const hosts = path.join(dir, 'hosts');
  const name = 'kw-two-addresses';
  fs.writeFileSync(hosts, `127.0.0.1 ${name}\n127.0.0.2 ${name}\n`);
  const prefix = ['unshare', '-rm', 'sh', '-c', 'mount --bind "$0" /etc/hosts && exec "$@"', hosts];
  let out;
  try {
    out = execFileSync(prefix[0], [...prefix.slice(1), 'getent', 'ahosts', name], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  } catch (e) {
    return { why: `localhost has one address here (${JSON.stringify(addrs)}) and no private hosts file: ${String(e.stderr || e.message).trim()}` };
  }
  const seen = [...new Set(out.split('\n').map((l) => l.split(/\s+/)[0]).filter(Boolean))];
  if (seen.length < 2) return { why: `${name} has one address in a private hosts file (${out})` };
  return { name, addrs: seen.map((address) => ({ address })), prefix };
}

test('a name with several addresses: one that swallows the handshake costs a short try, not the whole connect_timeout', async (t) => {
  const two = await twoAddressName();
  if (!two.name) { t.skip(two.why); return; }
  const [first, second] = two.addrs;
  // the first address: a listener whose process is stopped, with its accept queue full, so a
  // new handshake gets no answer at all (the kernel drops the SYN)
  const { spawn } = await import('node:child_process');
  const hole = spawn(process.execPath, ['-e', `require('net').createServer(() => {}).listen({ port: 0, host: '${first.address}', backlog: 1 }, function () { console.log(this.address().port); })`], { stdio: ['ignore', 'pipe', 'inherit'] });
  procs.push({ stop: async () => { hole.kill('SIGKILL'); } });
  const port = Number(await new Promise((res) => hole.stdout.once('data', (d) => res(String(d).trim()))));
  hole.kill('SIGSTOP');
  const fillers = [];
  for (let i = 0; i < 8; i++) {
    const s = net.connect({ port, host: first.address });
    s.on('error', () => {});
    fillers.push(s);
  }
  procs.push({ stop: async () => { for (const s of fillers) s.destroy(); } });
  await sleep(300);
  const probe = net.connect({ port, host: first.address });
  probe.on('error', () => {});
  const answered = await Promise.race([new Promise((res) => probe.once('connect', () => res(true))), sleep(1000).then(() => false)]);
  probe.destroy();
  if (answered) { t.skip('this kernel answers handshakes beyond a full accept queue'); return; }
  // the second address: a working Ollama on the same port
  const good = net.createServer((sock) => {
    sock.on('error', () => {});
    sock.on('data', (d) => {
      if (String(d).startsWith('GET /api/ps ')) sock.write('HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n{"models":[]}');
      else sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
  });
  await new Promise((res) => good.listen(port, second.address, res));
  procs.push({ stop: () => new Promise((res) => { good.close(res); good.unref(); }) });
  const kw = await startKeepwarm(`http://${two.name}:${port}`, ['--ping-interval', '1h'], { KEEPWARM_CONNECT_TIMEOUT: '60s' }, { prefix: two.prefix });
  procs.push(kw);
  const r = await fetch(`${kw.url}/api/version`, { signal: AbortSignal.timeout(20000) });
  assert.equal(await r.text(), 'ok', 'served by the second address well within connect_timeout');
});

test('SIGHUP keeps the kept-alive connections when the upstream stays the same; new headers and timeouts apply at once', async () => {
  const srv = await rawServer((req, sock) => sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kw-hup-'));
  const ini = path.join(dir, 'keepwarm.ini');
  fs.writeFileSync(ini, '[keepwarm]\nupstream_header = X-Gen: 1\n');
  const kw = await startKeepwarm(srv.url, ['-c', ini, '--ping-interval', '1h']);
  procs.push(kw);
  assert.equal(await (await fetch(`${kw.url}/api/version`)).text(), 'ok');
  const conns = srv.connections;
  fs.writeFileSync(ini, '[keepwarm]\nupstream_header = X-Gen: 2\nread_timeout = 5m\n');
  kw.child.kill('SIGHUP');
  await until(() => /configuration reloaded/.test(kw.output), 'the reload');
  assert.equal(await (await fetch(`${kw.url}/api/version`)).text(), 'ok');
  assert.equal(srv.connections, conns, 'no new connection after the reload');
  assert.equal(srv.closed, 0, 'none closed');
  assert.deepEqual(headerValues(srv.requests.at(-1).head, 'X-Gen'), ['2']);
});
