// The command line: --help, --version, --check, and configuration errors that name their
// source (file:line, environment variable, flag) and what is allowed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KEEPWARM_BIN } from './harness.js';

const run = (args, env = {}) => spawnSync(KEEPWARM_BIN, args, { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kw-cli-'));
const file = (name, text) => { const p = path.join(tmp, name); fs.writeFileSync(p, text); return p; };

test('--help and --version', () => {
  const h = run(['--help']);
  assert.equal(h.status, 0);
  assert.match(h.stdout, /--keep-alive DURATION/);
  const v = run(['--version']);
  assert.equal(v.status, 0);
  assert.match(v.stdout, /^keepwarm \d+\.\d+\.\d+/);
});

test('--check accepts the example configuration', () => {
  const r = run(['--check', '-c', path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../conf/keepwarm.ini')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /configuration OK/);
});

test('--check reports file, line, key and what is allowed', () => {
  const cases = [
    ['[keepwarm]\nlisten = 127.0.0.1:11435\nkeep_alive = 1d\n', /bad\.ini:3: keep_alive: time: unknown unit "d"/],
    ['[keepwarm]\nkeep_alive_policy = sometimes\n', /:2: keep_alive_policy: "sometimes" is not allowed \(allowed: override, default\)/],
    ['[keepwarm]\nbogus = 1\n', /:2: unknown key "bogus" \(allowed: listen/],
    ['[model "m"]\nnum_ctx = lots\n', /:2: num_ctx: "lots" is not an integer/],
    ['[model "m"]\nuse_mmap = maybe\n', /:2: use_mmap: "maybe" is not a boolean/],
    ['[elsewhere]\nx = 1\n', /:2: unknown section \[elsewhere\]/],
    ['[keepwarm]\nlisten = nowhere\n', /:2: listen: "nowhere" is not HOST:PORT/],
    ['[keepwarm]\nping_interval = -1\n', /:2: ping_interval: "-1" must be a positive duration/],
    ['[keepwarm]\nupstream = ftp://x\n', /:2: upstream: "ftp:\/\/x" is not an http URL/],
    ['this is not ini\n', /:1: syntax error/],
  ];
  for (const [text, re] of cases) {
    const r = run(['--check', '-c', file('bad.ini', text)]);
    assert.equal(r.status, 2, `exit status for ${JSON.stringify(text)}`);
    assert.match(r.stderr, re);
  }
  const missing = run(['--check', '-c', path.join(tmp, 'absent.ini')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /absent\.ini: cannot open/);
});

test('environment and flags: errors name their source; layers override in order', () => {
  const e = run(['--check'], { KEEPWARM_KEEP_ALIVE: 'soon' });
  assert.equal(e.status, 2);
  assert.match(e.stderr, /KEEPWARM_KEEP_ALIVE: keep_alive: time: invalid duration "soon"/);
  const f = run(['--check', '--log-level', 'loud']);
  assert.equal(f.status, 2);
  assert.match(f.stderr, /--log-level: log_level: "loud" is not allowed/);
  const u = run(['--check', '--frobnicate']);
  assert.equal(u.status, 2);
  assert.match(u.stderr, /unknown option/);

  const ini = file('layers.ini', '[keepwarm]\nlisten = 127.0.0.1:1111\nupstream = http://127.0.0.1:2222\npin = a, b\n');
  const fileOnly = run(['--check', '-c', ini]);
  assert.match(fileOnly.stdout, /listen 127\.0\.0\.1:1111, upstream http:\/\/127\.0\.0\.1:2222, 2 pinned/);
  const envWins = run(['--check', '-c', ini], { KEEPWARM_LISTEN: '127.0.0.1:3333', KEEPWARM_PIN: 'c' });
  assert.match(envWins.stdout, /listen 127\.0\.0\.1:3333, upstream http:\/\/127\.0\.0\.1:2222, 1 pinned/);
  const flagWins = run(['--check', '-c', ini, '--listen', '127.0.0.1:4444', '--pin', 'x', '--pin', 'y', '--pin', 'z'], { KEEPWARM_LISTEN: '127.0.0.1:3333' });
  assert.match(flagWins.stdout, /listen 127\.0\.0\.1:4444, .* 3 pinned/);
  const ollamaHost = run(['--check'], { OLLAMA_HOST: '0.0.0.0:9999' });
  assert.match(ollamaHost.stdout, /upstream http:\/\/127\.0\.0\.1:9999/);
  const cfgEnv = run(['--check'], { KEEPWARM_CONFIG: ini });
  assert.match(cfgEnv.stdout, /listen 127\.0\.0\.1:1111/);
});
