// Runs an agent CLI from tests/node_modules/.bin the way the agent tests need it: a fresh temp
// HOME (and CODEX_HOME, XDG dirs) so nothing is read from or written to the real one, only PATH
// and LANG from the environment (no API keys leak in), a working directory of its own, and a
// deadline: a CLI still running after timeoutMs is killed with its whole process group and the
// result says timedOut, so a hung agent fails its test instead of hanging CI.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

// One line for an assertion message: what the CLI printed.
export function said(r) {
  return `exit ${r.code}${r.timedOut ? ' (killed at the deadline)' : ''}\n` +
    `stdout: ${r.stdout.slice(-2000)}\nstderr: ${r.stderr.slice(-2000)}`;
}
