// Streamed answers on the wire: keepwarm writes a piece straight to the client's socket while
// nothing is queued and falls back to libevent's buffer when the socket is full (proxy/net/chunkw.c).
// These tests read the raw bytes and check the framing (chunked for HTTP/1.1, none for HTTP/1.0),
// that every token arrives once and in order, and that the connection is usable afterwards.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startFake, startKeepwarm, FakeControl, parseSSE, stopAll } from './harness.js';

const procs = [];
after(() => stopAll(procs));

const chatBody = (extra = {}) => JSON.stringify({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'x' }], ...extra });
const post = (path, body, { version = '1.1', close = false } = {}) =>
  `POST ${path} HTTP/${version}\r\nHost: localhost\r\nContent-Type: application/json\r\n` +
  `${close ? 'Connection: close\r\n' : ''}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

// One HTTP/1.x client connection. A slow one stops reading for stallMs at the start and after
// every stallEvery bytes (the kernel's buffers fill, so keepwarm's socket writes go partial or
// would block), and pauses slowMs after every read.
class Conn {
  constructor(port, { slowMs = 0, stallMs = 0, stallEvery = 1 << 20 } = {}) {
    let next = 0;
    this.stallMs = stallMs;
    this.buf = Buffer.alloc(0);
    this.pending = []; // received, not yet in buf (joined when read: no quadratic copying)
    this.closed = false;
    this.waiters = [];
    this.sock = net.connect(port, '127.0.0.1');
    this.sock.on('data', (d) => {
      this.pending.push(d);
      this.got = (this.got ?? 0) + d.length;
      if (this.stallMs && this.got >= next) {
        next = this.got + stallEvery;
        this.sock.pause();
        setTimeout(() => this.sock.resume(), this.stallMs);
      } else if (slowMs) {
        this.sock.pause();
        setTimeout(() => this.sock.resume(), slowMs);
      }
      this.wake();
    });
    this.sock.on('close', () => { this.closed = true; this.wake(); });
    this.sock.on('error', () => {});
  }
  wake() { for (const w of this.waiters.splice(0)) w(); }
  join() {
    if (this.pending.length) this.buf = Buffer.concat([this.buf, ...this.pending.splice(0)]);
  }
  // Waits until n bytes are buffered (or the connection closed).
  async need(n, timeoutMs = 30000) {
    const t0 = Date.now();
    this.join();
    while (this.buf.length < n && !this.closed) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${n} bytes`);
      await new Promise((r) => { this.waiters.push(r); setTimeout(r, 100); });
      this.join();
    }
    if (this.buf.length < n) throw new Error(`connection closed after ${this.buf.length} of ${n} bytes`);
  }
  take(n) {
    const b = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return b;
  }
  async line() { // up to CRLF, strict
    for (;;) {
      this.join();
      const i = this.buf.indexOf('\r\n');
      if (i >= 0) { const l = this.take(i).toString('latin1'); this.take(2); return l; }
      await this.need(this.buf.length + 1);
    }
  }
  // Reads one response; the body is de-chunked strictly (size line, data, CRLF; a 0 chunk and
  // an empty trailer end it), or read to EOF when it is neither chunked nor sized.
  async response() {
    const status = await this.line();
    const headers = {};
    for (let l; (l = await this.line()) !== '';) {
      const i = l.indexOf(':');
      headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
    }
    const parts = [];
    let chunks = 0;
    if (headers['transfer-encoding'] === 'chunked') {
      for (;;) {
        const sl = await this.line();
        assert.match(sl, /^[0-9a-f]+$/, `chunk size line ${JSON.stringify(sl)}`);
        const size = parseInt(sl, 16);
        if (size === 0) { assert.equal(await this.line(), '', 'no trailer'); break; }
        await this.need(size + 2);
        parts.push(this.take(size));
        assert.equal(this.take(2).toString(), '\r\n', 'CRLF after chunk data');
        chunks++;
      }
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      await this.need(n);
      parts.push(this.take(n));
    } else {
      while (!this.closed) await new Promise((r) => { this.waiters.push(r); setTimeout(r, 100); });
      this.join();
      parts.push(this.take(this.buf.length));
    }
    return { status, headers, body: Buffer.concat(parts).toString('utf8'), chunks };
  }
  write(s) { this.sock.write(s); }
  end() { this.sock.destroy(); }
}

// The tokens of an SSE body, checked to end with [DONE].
function sseContent(body) {
  const ev = parseSSE(body);
  assert.equal(ev[ev.length - 1], '[DONE]', 'the stream ends with [DONE]');
  return ev.filter((e) => e !== '[DONE]' && e.choices?.length).map((e) => e.choices[0].delta?.content ?? '').join('');
}

// Distinct, ordered, 1 KB tokens: a lost, doubled or reordered byte shows.
const bigTokens = (n) => Array.from({ length: n }, (_, i) => `<${String(i).padStart(6, '0')}>` + 'abcdefghij'.repeat(99));

test('a slow reader gets every SSE token once, in order, in valid chunks; the connection is reused', async () => {
  const fake = await startFake();
  procs.push(fake);
  const kw = await startKeepwarm(fake.url);
  procs.push(kw);
  const tokens = bigTokens(6000); // about 7 MB of SSE
  await new FakeControl(fake).post('script', { content: tokens });
  const c = new Conn(kw.port, { stallMs: 400 });
  c.write(post('/v1/chat/completions', chatBody({ stream: true })));
  const r = await c.response();
  assert.match(r.status, /^HTTP\/1\.1 200/);
  assert.equal(r.headers['content-type'], 'text/event-stream');
  assert.equal(sseContent(r.body), tokens.join(''));
  // Keep-alive: the next request on the same connection is answered after the stream.
  c.stallMs = 0;
  c.write(post('/v1/chat/completions', chatBody({ stream: true }), { close: true }));
  const r2 = await c.response();
  assert.match(r2.status, /^HTTP\/1\.1 200/);
  assert.equal(sseContent(r2.body), tokens.join(''));
  c.end();
});

test('a slow native streaming reader gets the NDJSON lines intact and in order', async () => {
  const fake = await startFake();
  procs.push(fake);
  const kw = await startKeepwarm(fake.url);
  procs.push(kw);
  const tokens = bigTokens(4000);
  await new FakeControl(fake).post('script', { content: tokens });
  const c = new Conn(kw.port, { stallMs: 400 });
  c.write(post('/api/chat', chatBody({ stream: true }), { close: true }));
  const r = await c.response();
  assert.match(r.status, /^HTTP\/1\.1 200/);
  const lines = r.body.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.equal(lines[lines.length - 1].done, true);
  assert.equal(lines.map((l) => l.message?.content ?? '').join(''), tokens.join(''));
  c.end();
});

test('an HTTP/1.0 streaming client gets the SSE body unchunked, ended by close', async () => {
  const fake = await startFake(['--token-delay', '5']);
  procs.push(fake);
  const kw = await startKeepwarm(fake.url);
  procs.push(kw);
  const tokens = Array.from({ length: 40 }, (_, i) => ` t${i}`);
  await new FakeControl(fake).post('script', { content: tokens });
  for (const path of ['/v1/chat/completions', '/api/chat']) {
    const c = new Conn(kw.port);
    c.write(post(path, chatBody({ stream: true }), { version: '1.0' }));
    const r = await c.response();
    assert.match(r.status, /^HTTP\/1\.[01] 200/);
    assert.equal(r.headers['transfer-encoding'], undefined, 'no chunking for HTTP/1.0');
    assert.doesNotMatch(r.body, /^[0-9a-f]+\r\n/, 'no chunk size lines in the body');
    if (path === '/api/chat') {
      const lines = r.body.split('\n').filter(Boolean).map((l) => JSON.parse(l));
      assert.equal(lines.map((l) => l.message?.content ?? '').join(''), tokens.join(''));
    } else {
      assert.equal(sseContent(r.body), tokens.join(''));
    }
    assert.ok(c.closed, 'the server closed the connection');
  }
  const ok = await fetch(`${kw.url}/healthz`);
  assert.equal(ok.status, 200);
});

test('pipelined streaming requests are answered in order, each one whole', async () => {
  const fake = await startFake(['--token-delay', '5']);
  procs.push(fake);
  const kw = await startKeepwarm(fake.url);
  procs.push(kw);
  const tokens = Array.from({ length: 30 }, (_, i) => ` p${i}`);
  await new FakeControl(fake).post('script', { content: tokens });
  const c = new Conn(kw.port);
  const b = chatBody({ stream: true });
  c.write(post('/v1/chat/completions', b) + post('/api/chat', b) + post('/v1/chat/completions', b, { close: true }));
  const a = await c.response();
  const n = await c.response();
  const z = await c.response();
  for (const r of [a, n, z]) {
    assert.match(r.status, /^HTTP\/1\.1 200/);
    assert.ok(r.chunks > 1, 'streamed in several chunks');
  }
  assert.equal(sseContent(a.body), tokens.join(''));
  assert.equal(n.body.split('\n').filter(Boolean).map((l) => JSON.parse(l).message?.content ?? '').join(''), tokens.join(''));
  assert.equal(sseContent(z.body), tokens.join(''));
  c.end();
});

test('clients that reset mid-stream, fast or stalled, leave keepwarm serving', async () => {
  const fake = await startFake(['--token-delay', '2']);
  procs.push(fake);
  const ctl = new FakeControl(fake);
  const kw = await startKeepwarm(fake.url);
  procs.push(kw);
  await ctl.post('script', { content: bigTokens(500) });
  for (const slowMs of [0, 50]) {
    const c = new Conn(kw.port, { slowMs });
    c.write(post('/v1/chat/completions', chatBody({ stream: true })));
    await c.need(20000);
    c.sock.resetAndDestroy();
  }
  const deadline = Date.now() + 5000;
  while ((await ctl.stats()).in_flight !== 0) {
    assert.ok(Date.now() < deadline, 'the transfers were cancelled');
    await new Promise((r) => setTimeout(r, 50));
  }
  const r = await fetch(`${kw.url}/v1/chat/completions`, { method: 'POST', body: chatBody({ stream: true }) });
  assert.equal(r.status, 200);
  assert.equal(sseContent(await r.text()), bigTokens(500).join(''));
});
