// Runs an agent CLI from tests/node_modules/.bin the way the agent tests need it: a fresh temp
// HOME (and CODEX_HOME, XDG dirs) so nothing is read from or written to the real one, only PATH
// and LANG from the environment (no API keys leak in), a working directory of its own, and a
// deadline: a CLI still running after timeoutMs is killed with its whole process group and the
// result says timedOut, so a hung agent fails its test instead of hanging CI.
// agentStack sets up what every agent test file runs against: the stand-in Ollama, keepwarm in
// front of it with the tests' ini, and a second keepwarm with an api_key.
import { before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFake, startKeepwarm, FakeControl, iniFile } from '../integration/harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const BIN = path.join(here, '..', 'node_modules', '.bin');

// A temp dir with home/, work/ and codex/ inside; the caller removes it.
export function agentDirs(prefix) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `kw-${prefix}-`));
  const dirs = { root };
  for (const d of ['home', 'work', 'codex']) {
    dirs[d] = path.join(root, d);
    fs.mkdirSync(dirs[d]);
  }
  return dirs;
}

export function agentEnv(dirs, extra = {}) {
  return {
    PATH: process.env.PATH,
    LANG: process.env.LANG || 'C.UTF-8',
    HOME: dirs.home,
    XDG_CONFIG_HOME: path.join(dirs.home, '.config'),
    XDG_CACHE_HOME: path.join(dirs.home, '.cache'),
    XDG_DATA_HOME: path.join(dirs.home, '.local', 'share'),
    XDG_STATE_HOME: path.join(dirs.home, '.local', 'state'),
    TERM: 'dumb',
    NO_COLOR: '1',
    ...extra,
  };
}

export function runAgent(cmd, args, { env, cwd, timeoutMs = 60000 }) {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(BIN, cmd), args, {
      cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '', timedOut = false;
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }, timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // Whatever the CLI left behind in its group (sandbox helpers) goes with it.
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* none left */ }
      resolve({ code, signal, stdout, stderr, timedOut, pid: child.pid });
    });
  });
}

// What the agent tests' ini sets, and what Ollama must therefore see on every chat.
export const KEEP_ALIVE_S = 7200;
export const NUM_CTX = 16384;

// Registers the file's before/after/beforeEach hooks and returns the stack they fill in:
// { fake, ctl, kw, kwKeyed } with keepalive 2h and num_ctx NUM_CTX for each of models, kwKeyed
// behind --api-key key; the stand-in's script and log are reset before each test. tempDirs(p)
// makes agentDirs(p) that the after hook removes; it asserts both keepwarms exit 0.
export function agentStack(models, key) {
  const s = { fake: null, ctl: null, kw: null, kwKeyed: null, roots: [] };
  s.tempDirs = (prefix) => {
    const dirs = agentDirs(prefix);
    s.roots.push(dirs.root);
    return dirs;
  };
  before(async () => {
    s.fake = await startFake();
    s.ctl = new FakeControl(s.fake);
    const ini = iniFile('[keepwarm]\nkeep_alive = 2h\n' +
      models.map((m) => `[model "${m}"]\nnum_ctx = ${NUM_CTX}\n`).join(''));
    s.kw = await startKeepwarm(s.fake.url, ['-c', ini]);
    s.kwKeyed = await startKeepwarm(s.fake.url, ['-c', ini, '--api-key', key]);
  });
  after(async () => {
    let code, codeKeyed;
    try {
      code = await s.kw?.stop();
      codeKeyed = await s.kwKeyed?.stop();
    } finally {
      await s.fake?.stop();
      for (const d of s.roots) fs.rmSync(d, { recursive: true, force: true });
    }
    assert.equal(code, 0, `keepwarm exit code (output: ${s.kw?.output})`);
    assert.equal(codeKeyed, 0, `keepwarm (api_key) exit code (output: ${s.kwKeyed?.output})`);
  });
  beforeEach(async () => { await s.ctl.reset(); });
  return s;
}

// The POST /api/chat requests the stand-in saw since its last reset.
export async function chats(ctl) {
  return (await ctl.requests()).filter((q) => q.method === 'POST' && q.path === '/api/chat');
}

// What keepwarm decides for a chat reached Ollama: the model, keep_alive and num_ctx.
export function assertPolicy(q, model, what) {
  assert.ok(q.body, `${what}: the stand-in kept the body (under 64 KiB)`);
  assert.equal(q.body.model, model, `${what}: model`);
  assert.equal(q.body.keep_alive, KEEP_ALIVE_S, `${what}: keepwarm's keep_alive`);
  assert.equal(q.body.options?.num_ctx, NUM_CTX, `${what}: the [model] section's num_ctx`);
}

// Whether a process of the group runAgent started (its leader's pid) still runs: /proc's
// view, since a killed member that no init reaps stays a zombie that kill(-pid, 0) still finds.
export function groupAlive(pid) {
  for (const p of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(p)) continue;
    let stat;
    try { stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8'); } catch { continue; }
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so from the last ')'
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pid && state !== 'Z') return true;
  }
  return false;
}

// One line for an assertion message: what the CLI printed.
export function said(r) {
  return `exit ${r.code}${r.timedOut ? ' (killed at the deadline)' : ''}\n` +
    `stdout: ${r.stdout.slice(-2000)}\nstderr: ${r.stderr.slice(-2000)}`;
}
