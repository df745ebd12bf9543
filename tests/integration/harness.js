// Test harness: starts the stand-in Ollama and keepwarm on free loopback ports (port 0, the
// real port read from each program's first line), and stops them after the test file.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const KEEPWARM_BIN = process.env.KEEPWARM_BIN || path.join(root, 'build/keepwarm');
export const FAKE_BIN = process.env.FAKE_OLLAMA_BIN || path.join(root, 'build/fake_ollama');

function waitForLine(child, re, name, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${seen}`)), timeoutMs);
    const onData = (buf) => {
      seen += buf.toString();
      const m = seen.match(re);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}: ${seen}`));
    });
  });
}

export class Proc {
  constructor(child, port, name) {
    this.child = child;
    this.port = port;
    this.name = name;
    this.output = '';
    child.stdout.on('data', (b) => { this.output += b; });
    child.stderr.on('data', (b) => { this.output += b; });
  }
  get url() { return `http://127.0.0.1:${this.port}`; }
  // Waits for the process to exit by itself; its exit status.
  async exited() {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const [code] = await once(this.child, 'exit');
    return code;
  }

  // Stops the process and checks that it exited cleanly: status 0 after SIGTERM, which under
  // the sanitizers also means no leak, no overflow and no undefined behaviour was reported.
  async stop(signal = 'SIGTERM') {
    let code = this.child.exitCode;
    if (code === null && this.child.signalCode === null) {
      this.child.kill(signal);
      [code] = await once(this.child, 'exit');
    }
    if (signal === 'SIGTERM' && code !== 0) {
      throw new Error(`${this.name} exited with ${code ?? this.child.signalCode}:\n${this.output.slice(-4000)}`);
    }
    return code;
  }
}

// Stops every process in procs (emptying it), last started first, even when one of them fails
// its stop: a failed check must not leave the others running. Then throws what failed.
export async function stopAll(procs) {
  const errors = [];
  for (const p of procs.splice(0).reverse()) {
    try {
      await p.stop();
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length) throw new AggregateError(errors, errors.map((e) => e.message).join('\n'));
}

export async function startFake(args = []) {
  const child = spawn(FAKE_BIN, ['--listen', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const m = await waitForLine(child, /listening 127\.0\.0\.1:(\d+)/, 'fake_ollama');
  return new Proc(child, Number(m[1]), 'fake_ollama');
}

// KEEPWARM_WRAPPER runs keepwarm under a tool, e.g. "valgrind --error-exitcode=99 ..." (make valgrind).
const WRAPPER = (process.env.KEEPWARM_WRAPPER || '').split(' ').filter(Boolean);

// opts.prefix: a command keepwarm runs under, e.g. ['prlimit', '--nofile=48:48'].
// KEEPWARM_TEST_UPSTREAM_CLIENT=curl runs every keepwarm the tests start on the libcurl
// backend (`make integration-curl`); a test's own env still wins.
export const TEST_UPSTREAM_CLIENT = process.env.KEEPWARM_TEST_UPSTREAM_CLIENT || '';
const CLIENT_ENV = TEST_UPSTREAM_CLIENT ? { KEEPWARM_UPSTREAM_CLIENT: TEST_UPSTREAM_CLIENT } : {};

// upstreamUrl null: no --upstream flag (the file's or the environment's upstream, which a
// reload reads again).
export async function startKeepwarm(upstreamUrl, args = [], env = {}, opts = {}) {
  const up = upstreamUrl === null ? [] : ['--upstream', upstreamUrl];
  const argv = [...(opts.prefix || []), ...WRAPPER, KEEPWARM_BIN, '--listen', '127.0.0.1:0', ...up, ...args];
  const child = spawn(argv[0], argv.slice(1), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, OLLAMA_HOST: '', ...CLIENT_ENV, ...env },
  });
  const m = await waitForLine(child, /msg="listening" addr=127\.0\.0\.1:(\d+)/, 'keepwarm', WRAPPER.length ? 60000 : 10000);
  return new Proc(child, Number(m[1]), 'keepwarm');
}

// The stand-in's test controls.
export class FakeControl {
  constructor(fake) { this.base = fake.url; }
  async post(what, body = {}) {
    const r = await fetch(`${this.base}/_fake/${what}`, { method: 'POST', body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`/_fake/${what}: ${r.status} ${await r.text()}`);
    return r.json().catch(() => ({}));
  }
  async requests() {
    const r = await fetch(`${this.base}/_fake/requests`);
    return (await r.json()).requests;
  }
  async lastRequest(pathname) {
    const all = await this.requests();
    const hits = all.filter((q) => q.path === pathname || q.path.startsWith(pathname + '?'));
    return hits[hits.length - 1];
  }
  async stats() { return (await fetch(`${this.base}/_fake/stats`)).json(); }
  reset() { return this.post('reset'); }
}

// Reads an SSE body into its data payloads (parsed JSON, or the string "[DONE]").
export async function readSSE(response) {
  const text = await response.text();
  return parseSSE(text);
}

export function parseSSE(text) {
  const events = [];
  for (const block of text.split('\n\n')) {
    const lines = block.split('\n').filter((l) => l.startsWith('data: '));
    if (!lines.length) continue;
    const data = lines.map((l) => l.slice(6)).join('\n');
    events.push(data === '[DONE]' ? '[DONE]' : JSON.parse(data));
  }
  return events;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn until it returns something truthy; fails after timeoutMs.
export async function until(fn, what, timeoutMs = 5000) {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

// The first capture group of re in keepwarm's /metrics, as a number (undefined if absent).
// A fresh connection each time, so a test that idles past keepwarm's idle_timeout never races
// a pooled keep-alive connection being closed.
export async function metric(kw, re) {
  const text = await new Promise((resolve, reject) => {
    http.get(`${kw.url}/metrics`, { agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
  const m = text.match(re);
  return m ? Number(m[1]) : undefined;
}

// text as keepwarm.ini in a new temporary directory; its path (for `-c`, or to rewrite before
// a SIGHUP).
export function iniFile(text) {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kw-ini-')), 'keepwarm.ini');
  fs.writeFileSync(file, text);
  return file;
}

// A loopback port free right now (the tests that start nginx must name its ports).
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export const NGINX_BIN = process.env.NGINX_BIN || ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => fs.existsSync(p));

// Debian's nginx in the foreground, all its files in dir: nginx.conf holds `http` (the text of
// its http block) after private temp directories and no access log. Resolves once ready()
// (by default: a connection to readyPort is accepted) to { child, output, dir }; rejects if
// nginx exits first.
export async function startNginx(dir, { http: httpBlock, readyPort, ready, workerConnections = 512 }) {
  assert.ok(NGINX_BIN, 'nginx not found: install Debian\'s nginx (make deps does)');
  const tmp = (n) => path.join(dir, 'tmp', n);
  for (const n of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) fs.mkdirSync(tmp(n), { recursive: true });
  // As root, workers would run as nobody and could not use the private temp directories.
  const user = process.getuid && process.getuid() === 0 ? 'user root;' : '';
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(conf, `${user}
worker_processes 1;
events { worker_connections ${workerConnections}; }
http {
    access_log off;
    client_body_temp_path ${tmp('body')};
    proxy_temp_path ${tmp('proxy')};
    fastcgi_temp_path ${tmp('fastcgi')};
    uwsgi_temp_path ${tmp('uwsgi')};
    scgi_temp_path ${tmp('scgi')};
${httpBlock}
}
`);
  const child = spawn(NGINX_BIN, ['-p', dir, '-c', conf,
    '-g', `daemon off; pid ${path.join(dir, 'nginx.pid')}; error_log stderr;`], { stdio: ['ignore', 'pipe', 'pipe'] });
  const n = { child, output: '', dir };
  child.stdout.on('data', (b) => { n.output += b; });
  child.stderr.on('data', (b) => { n.output += b; });
  let exited = false;
  child.once('exit', () => { exited = true; });
  const accepts = () => new Promise((resolve) => {
    const s = net.connect(readyPort, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
  try {
    await until(() => {
      if (exited) throw new Error(`nginx exited:\n${n.output}`);
      return (ready || accepts)();
    }, `nginx:\n${n.output}`);
  } catch (e) {
    await stopNginx(n);
    throw e;
  }
  return n;
}

// Stops an nginx from startNginx (its dir stays: the caller made it).
export async function stopNginx(n) {
  if (n.child.exitCode === null && n.child.signalCode === null) {
    n.child.kill('SIGTERM');
    await once(n.child, 'exit');
  }
}
