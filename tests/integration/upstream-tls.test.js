// An Ollama behind TLS, for real: a throwaway CA and certificates made here with openssl,
// Debian's nginx terminating TLS in front of the stand-in, and keepwarm reaching it through
// its libcurl backend (`--upstream https://127.0.0.1:PORT`): a private CA, the system store
// (which does not know it), upstream_insecure, a client certificate nginx requires, and
// credentials nginx checks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startFake, startKeepwarm, startNginx, stopNginx, freePort, FakeControl, readSSE, until, stopAll } from './harness.js';

const procs = [];
let dir, fake, ctl, nginx;
const ports = {};

const file = (n) => path.join(dir, n);
const openssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });

// A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA.
function makeCerts() {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=keepwarm test CA');
  fs.writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  fs.writeFileSync(file('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const who of ['server', 'client']) {
    openssl('req', ...ec, '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=keepwarm test ${who}`);
    openssl('x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
      '-out', `${who}.pem`, '-days', '2', '-extfile', `${who}.ext`);
  }
}

function server(port, extra) {
  return `
    server {
        listen 127.0.0.1:${port} ssl;
        ssl_certificate ${file('server.pem')};
        ssl_certificate_key ${file('server.key')};
        ${extra}
        location / {
            proxy_pass http://127.0.0.1:${fake.port};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
        }
    }`;
}

async function startTLSNginx() {
  for (const n of ['plain', 'mtls', 'basic', 'bearer']) ports[n] = await freePort();
  return startNginx(dir, {
    workerConnections: 256,
    readyPort: ports.bearer,
    http: `
    ${server(ports.plain, '')}
    ${server(ports.mtls, `ssl_client_certificate ${file('ca.pem')};\n        ssl_verify_client on;`)}
    ${server(ports.basic, 'if ($http_authorization != "Basic dXNlcjpzM2NyZXQ=") { return 401; }')}
    ${server(ports.bearer, 'if ($http_authorization != "Bearer s3cret") { return 401; }')}`,
  });
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kw-tls-'));
  makeCerts();
  fake = await startFake();
  procs.push(fake);
  ctl = new FakeControl(fake);
  nginx = await startTLSNginx();
});

after(async () => {
  try {
    await stopAll(procs);
  } finally {
    if (nginx) await stopNginx(nginx);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
});

function ini(text) {
  const f = file(`kw-${procs.length}.ini`);
  fs.writeFileSync(f, text);
  return f;
}

// keepwarm in front of nginx; no proxy from the environment between them.
async function kwTLS(url, conf = '', env = {}) {
  const kw = await startKeepwarm(url, conf ? ['-c', ini(`[keepwarm]\n${conf}`)] : [],
    { HTTPS_PROXY: '', https_proxy: '', ALL_PROXY: '', all_proxy: '', ...env });
  procs.push(kw);
  return kw;
}

const chat = (kw, stream, headers = {}) => fetch(`${kw.url}/v1/chat/completions`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'hi' }], stream }),
});

test('a private CA (upstream_ca_file): chat streams and not, the warm loop pins through TLS', async () => {
  await ctl.reset();
  const url = `https://127.0.0.1:${ports.plain}`;
  const kw = await kwTLS(url, `upstream_ca_file = ${file('ca.pem')}\npin = llama3.2:3b\nping_interval = 200ms\n` +
    '[model "llama3.2:3b"]\nnum_ctx = 8192\n');

  const r = await chat(kw, false);
  assert.equal(r.status, 200, await r.clone().text());
  const j = await r.json();
  assert.equal(j.object, 'chat.completion');
  assert.ok(j.choices[0].message.content.length > 0);

  const s = await chat(kw, true);
  assert.equal(s.status, 200);
  assert.match(s.headers.get('content-type'), /^text\/event-stream/);
  const events = await readSSE(s);
  assert.equal(events[events.length - 1], '[DONE]');
  assert.ok(events.length > 2, 'several chunks');

  const native = await fetch(`${kw.url}/api/chat`, {
    method: 'POST',
    body: JSON.stringify({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(native.status, 200);
  const lines = (await native.text()).trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines[lines.length - 1].done, true);

  // The warm loop's own calls go through TLS too: the pin is loaded again with its options.
  // (Its first round may find the model already loaded by the chats above, so Ollama evicts it.)
  const before = (await ctl.requests()).length;
  await ctl.post('evict', { model: 'llama3.2:3b' });
  const load = await until(async () => (await ctl.requests()).slice(before).find((q) =>
    q.path === '/api/generate' && q.body.model === 'llama3.2:3b' && q.body.prompt === undefined), 'the pin loaded',
  15000); // a warm round, through TLS, on a busy machine
  assert.equal(load.body.keep_alive, -1);
  assert.deepEqual(load.body.options, { num_ctx: 8192 });
  const up = await ctl.lastRequest('/api/chat');
  assert.equal(up.body.keep_alive, -1, 'keep_alive injected');
  assert.equal(up.body.options.num_ctx, 8192, 'the pinned num_ctx');
  const st = await (await fetch(`${kw.url}/status`)).json();
  assert.equal(st.upstream.up, true);
});

test('the system store does not know the CA: 502 naming the upstream and the certificate problem', async () => {
  const url = `https://127.0.0.1:${ports.plain}`;
  const kw = await kwTLS(url);
  const r = await chat(kw, false);
  assert.equal(r.status, 502);
  const j = await r.json();
  assert.match(j.error.message, new RegExp(`^cannot reach Ollama at ${url}: SSL certificate problem: `));
  assert.match(j.error.message, /unable to get local issuer certificate/);
  // /status says why, too
  const st = await until(async () => {
    const s = await (await fetch(`${kw.url}/status`)).json();
    return s.upstream.error ? s : null;
  }, 'the warm loop saw the failure');
  assert.equal(st.upstream.up, false);
  assert.match(st.upstream.error, /SSL certificate problem/);
});

test('upstream_insecure = yes reaches it anyway, and says so (at start and at each reload)', async () => {
  const kw = await kwTLS(`https://127.0.0.1:${ports.plain}`, 'upstream_insecure = yes\n');
  // The start's warning may come in the same read as the "listening" line the harness waits
  // for (and not be kept): a reload logs it again.
  kw.child.kill('SIGHUP');
  await until(() => /level=warn msg="upstream_insecure/.test(kw.output), 'the warning');
  assert.match(kw.output, /level=warn msg="upstream_insecure = yes: Ollama's TLS certificate and name are not checked"/);
  const r = await chat(kw, false);
  assert.equal(r.status, 200);
});

test('nginx requires a client certificate: refused without one, served with upstream_client_cert/_key', async () => {
  const url = `https://127.0.0.1:${ports.mtls}`;
  const without = await kwTLS(url, `upstream_ca_file = ${file('ca.pem')}\n`);
  const r = await chat(without, false);
  assert.equal(r.status, 400, 'nginx: "No required SSL certificate was sent"');
  assert.match(await r.text(), /No required SSL certificate was sent/);

  const kw = await kwTLS(url, `upstream_ca_file = ${file('ca.pem')}\n` +
    `upstream_client_cert = ${file('client.pem')}\nupstream_client_key = ${file('client.key')}\n`);
  const ok = await chat(kw, true);
  assert.equal(ok.status, 200);
  const events = await readSSE(ok);
  assert.equal(events[events.length - 1], '[DONE]');
});

test('user:password in the URL reaches nginx as Basic auth through libcurl', async () => {
  const base = `127.0.0.1:${ports.basic}`;
  const wrong = await kwTLS(`https://user:wrong@${base}`, `upstream_ca_file = ${file('ca.pem')}\n`);
  assert.equal((await chat(wrong, false)).status, 401, 'nginx checks the credentials');
  const kw = await kwTLS(`https://user:s3cret@${base}`, `upstream_ca_file = ${file('ca.pem')}\n`);
  const r = await chat(kw, false);
  assert.equal(r.status, 200);
  assert.equal((await r.json()).object, 'chat.completion');
});

test('a bearer token checked by nginx: upstream_header, through libcurl', async () => {
  const url = `https://127.0.0.1:${ports.bearer}`;
  const kw = await kwTLS(url, `upstream_ca_file = ${file('ca.pem')}\n`);
  assert.equal((await chat(kw, false)).status, 401, 'no token: nginx refuses');
  const withToken = await kwTLS(url, `upstream_ca_file = ${file('ca.pem')}\n` +
    'upstream_header = Authorization: Bearer s3cret\n');
  const r = await chat(withToken, false);
  assert.equal(r.status, 200, 'the token reached nginx');
  assert.equal((await r.json()).object, 'chat.completion');
  // A client's own Authorization (here a keepwarm key would be stripped anyway) never
  // replaces the configured one: the configured header wins.
  const s = await chat(withToken, true, { authorization: 'Bearer wrong' });
  assert.equal(s.status, 200);
  await s.text();
  assert.ok(!withToken.output.includes('s3cret'), 'the token is never logged');
});

test("a proxy URL's password in libcurl's error text reaches neither the client nor the log", async () => {
  const url = `https://127.0.0.1:${ports.plain}`;
  const kw = await kwTLS(url, `upstream_ca_file = ${file('ca.pem')}\n`,
    { HTTPS_PROXY: 'bogus://proxyuser:pr0xys3cret@127.0.0.1:1', NO_PROXY: '' });
  const r = await chat(kw, false);
  assert.equal(r.status, 502);
  const text = await r.text();
  assert.match(text, /proxy scheme/i, 'libcurl\'s own words reach the client');
  assert.ok(!text.includes('pr0xys3cret'), text);
  assert.match(text, /bogus:\/\/\*\*\*@127\.0\.0\.1:1/, 'the user info is shown as ***');
  await new Promise((res) => setTimeout(res, 300)); // the access and warm lines
  assert.ok(!kw.output.includes('pr0xys3cret'), 'nor in the log');
});

test('HTTPS_PROXY from the environment: libcurl tunnels through it', async () => {
  // A CONNECT proxy that records what it was asked for and pipes bytes both ways.
  const asked = [];
  const proxy = net.createServer((c) => {
    c.on('error', () => {});
    c.once('data', (d) => {
      const head = d.toString();
      asked.push(head.split('\r\n')[0]);
      const m = /^CONNECT 127\.0\.0\.1:(\d+) /.exec(head);
      if (!m) { c.end('HTTP/1.1 400 Bad Request\r\n\r\n'); return; }
      const up = net.connect(Number(m[1]), '127.0.0.1', () => {
        c.write('HTTP/1.1 200 Connection established\r\n\r\n');
        up.pipe(c);
        c.pipe(up);
      });
      up.on('error', () => c.destroy());
    });
  });
  await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
  try {
    const url = `https://127.0.0.1:${ports.plain}`;
    const kw = await kwTLS(url, `upstream_ca_file = ${file('ca.pem')}\n`,
      { HTTPS_PROXY: `http://127.0.0.1:${proxy.address().port}`, NO_PROXY: '' });
    const r = await chat(kw, false);
    assert.equal(r.status, 200);
    assert.ok(asked.includes(`CONNECT 127.0.0.1:${ports.plain} HTTP/1.1`), asked.join('\n'));
  } finally {
    proxy.close();
  }
});
