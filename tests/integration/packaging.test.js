// Packaging: `make install` with DESTDIR, the container image's build stage run here as CI
// has no Docker engine, the man page, and the systemd unit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KEEPWARM_BIN } from './harness.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (p) => fs.readFileSync(path.join(root, p), 'utf8');
const tmpdir = (what) => fs.mkdtempSync(path.join(os.tmpdir(), `kw-${what}-`));
const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

// The build directory of the keepwarm under test, so that `make install` installs that one
// (under `make test SANITIZE=...` it is build/san).
const buildDir = (() => {
  const rel = path.relative(root, path.dirname(KEEPWARM_BIN));
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : 'build';
})();

// An environment free of the make variables of a `make test` that runs this file.
function makeEnv(extra = {}) {
  const env = { ...process.env };
  for (const k of ['MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'MAKEOVERRIDES', 'SANITIZE', 'BUILD', 'PREFIX',
    'DESTDIR', 'BINDIR', 'MANDIR', 'SYSCONFDIR']) delete env[k];
  return { ...env, ...extra };
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.error) throw r.error;
  return r;
}

function mustRun(cmd, args, opts = {}) {
  const r = run(cmd, args, opts);
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

const mode = (p) => (fs.statSync(p).mode & 0o777).toString(8);

test('make install: binary, man page and configuration under DESTDIR; an existing configuration is kept', () => {
  const dest = tmpdir('install');
  try {
    // -o: install the keepwarm under test as it is, never rebuild it here.
    const install = (...vars) => mustRun('make', ['--no-print-directory', '-C', root, '-o', `${buildDir}/keepwarm`,
      'install', `DESTDIR=${dest}`, ...vars], { env: makeEnv({ BUILD: buildDir }) });
    install();
    const bin = path.join(dest, 'usr/local/bin/keepwarm');
    const man = path.join(dest, 'usr/local/share/man/man1/keepwarm.1');
    const ini = path.join(dest, 'usr/local/etc/keepwarm/keepwarm.ini');
    assert.equal(mode(bin), '755');
    assert.equal(mode(man), '644');
    assert.equal(mode(ini), '644');
    assert.equal(fs.readFileSync(ini, 'utf8'), read('conf/keepwarm.ini'));
    assert.equal(fs.readFileSync(man, 'utf8'), read('docs/keepwarm.1'));
    assert.match(mustRun(bin, ['--version']).stdout, /^keepwarm \d+\.\d+\.\d+/);

    fs.writeFileSync(ini, '[keepwarm]\npin = mine\n');
    install();
    assert.equal(fs.readFileSync(ini, 'utf8'), '[keepwarm]\npin = mine\n', 'make install never overwrites the configuration');

    // A package's layout: PREFIX=/usr puts the configuration in /etc, not /usr/etc.
    install('PREFIX=/usr');
    for (const p of ['usr/bin/keepwarm', 'usr/share/man/man1/keepwarm.1', 'etc/keepwarm/keepwarm.ini']) {
      assert.ok(fs.existsSync(path.join(dest, p)), `${p} installed with PREFIX=/usr`);
    }
    assert.ok(!fs.existsSync(path.join(dest, 'usr/etc')), 'nothing in /usr/etc');
  } finally {
    fs.rmSync(dest, { recursive: true, force: true });
  }
});

// Dockerfile instructions, continuation lines joined and comments dropped, split into stages.
function dockerStages(text) {
  const lines = [];
  let cur = '';
  for (const raw of text.split('\n')) {
    if (/^\s*#/.test(raw)) continue;
    if (/\\\s*$/.test(raw)) {
      cur += raw.replace(/\\\s*$/, ' ');
      continue;
    }
    cur += raw;
    if (cur.trim()) lines.push(cur.trim().replace(/\s+/g, ' '));
    cur = '';
  }
  const stages = [];
  for (const line of lines) {
    const [, cmd, args] = line.match(/^(\S+)\s*(.*)$/);
    const ins = { cmd: cmd.toUpperCase(), args };
    if (ins.cmd === 'FROM') {
      const m = args.match(/^(\S+)(?:\s+AS\s+(\S+))?$/i);
      stages.push({ image: m[1], name: m[2], ins: [] });
    } else {
      stages.at(-1).ins.push(ins);
    }
  }
  return stages;
}

function aptPackages(stage) {
  const pkgs = [];
  for (const { cmd, args } of stage.ins) {
    if (cmd !== 'RUN') continue;
    for (const m of args.matchAll(/apt-get install ((?:\S+ ?)+?)(?:&&|$)/g)) {
      pkgs.push(...m[1].trim().split(' ').filter((w) => !w.startsWith('-')));
    }
  }
  return pkgs;
}

test('the Dockerfile builds here: its build stage\'s commands, its COPY sources, its runtime libraries', (t) => {
  const stages = dockerStages(read('conf/Dockerfile'));
  assert.equal(stages.length, 2, 'a build stage and a final stage');
  const [build, final] = stages;
  assert.match(build.image, /^debian:bookworm$/);
  assert.match(final.image, /^debian:bookworm-slim$/);

  const work = tmpdir('docker');
  const src = path.join(work, 'src'), out = path.join(work, 'out');
  try {
    // The build context is the top of the tree, less what the ignore file next to the
    // Dockerfile leaves out; copy exactly what the build stage copies.
    const ignored = read('conf/Dockerfile.dockerignore').split('\n').map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#')).map((l) => l.replace(/\/+$/, ''));
    assert.ok(ignored.includes('build'), 'host builds stay out of the context');
    let workdir = '/';
    const runs = [];
    for (const { cmd, args } of build.ins) {
      if (cmd === 'WORKDIR') workdir = args;
      if (cmd === 'RUN' && /(^|&& )make\b/.test(args)) runs.push(args);
      if (cmd !== 'COPY') continue;
      assert.ok(!args.startsWith('--from'), 'the build stage copies from the context only');
      const words = args.split(' ');
      const destArg = words.pop();
      assert.equal(workdir, '/src', 'COPY happens in WORKDIR /src');
      for (const s of words) {
        const from = path.join(root, s);
        assert.ok(fs.existsSync(from), `Dockerfile COPY source ${s} exists`);
        for (const ig of ignored) {
          assert.ok(!`${s}/`.startsWith(`${ig}/`), `COPY source ${s} is not in conf/Dockerfile.dockerignore (${ig})`);
        }
        const destDir = path.join(src, destArg);
        if (fs.statSync(from).isDirectory()) {
          fs.cpSync(from, destDir, { recursive: true });
        } else {
          const to = destArg.endsWith('/') ? path.join(destDir, path.basename(s)) : destDir;
          fs.mkdirSync(path.dirname(to), { recursive: true });
          fs.copyFileSync(from, to);
        }
      }
    }
    assert.equal(runs.length, 1, 'one RUN builds and installs');
    assert.match(runs[0], /\bmake\b.*\bmake install DESTDIR=\/out PREFIX=\/usr\b/);
    const cmdline = runs[0].replace(/(?<=[=\s])\/out(?=[/\s]|$)/g, out);
    const jobs = Math.max(1, Math.min(4, os.cpus().length));
    mustRun('sh', ['-ec', cmdline], { cwd: src, env: makeEnv({ MAKEFLAGS: `-j${jobs}` }) });

    // The final stage copies only what the build stage installed.
    const copied = new Map();
    for (const { cmd, args } of final.ins) {
      if (cmd !== 'COPY') continue;
      const m = args.match(/^--from=(\S+) (\S+) (\S+)$/);
      assert.ok(m, `final stage COPY comes from the build stage: ${args}`);
      assert.equal(m[1], build.name);
      const from = m[2].replace(/^\/out(?=\/)/, out);
      assert.ok(fs.existsSync(from), `${m[2]} was installed by the build stage`);
      copied.set(m[3], from);
    }
    const json = (c) => JSON.parse(final.ins.find((i) => i.cmd === c).args);
    const entrypoint = json('ENTRYPOINT'), cmd = json('CMD');
    assert.ok(copied.has(entrypoint[0]), `ENTRYPOINT ${entrypoint[0]} is in the image`);
    const conf = cmd[cmd.indexOf('-c') + 1];
    assert.ok(copied.has(conf), `CMD's configuration ${conf} is in the image`);

    const env = Object.fromEntries(final.ins.filter((i) => i.cmd === 'ENV').map((i) => i.args.split('=')));
    assert.equal(env.KEEPWARM_LISTEN, '0.0.0.0:11435');
    const port = env.KEEPWARM_LISTEN.split(':').pop();
    assert.equal(final.ins.find((i) => i.cmd === 'EXPOSE').args, port);
    const health = final.ins.find((i) => i.cmd === 'HEALTHCHECK').args;
    assert.match(health, new RegExp(`"http://127\\.0\\.0\\.1:${port}/healthz"`));
    const pkgs = aptPackages(final);
    const tool = health.match(/CMD \["([^"]+)"/)[1];
    assert.ok(pkgs.includes(tool), `the health check's ${tool} is installed in the final stage`);
    const user = final.ins.find((i) => i.cmd === 'USER').args;
    assert.match(user, /^[1-9]\d*:[1-9]\d*$/, 'a numeric non-root user');

    // The image's own command line, with its environment, is a valid configuration.
    const bin = copied.get(entrypoint[0]);
    const check = mustRun(bin, ['-c', copied.get(conf), '--check'],
      { env: { PATH: process.env.PATH, KEEPWARM_LISTEN: env.KEEPWARM_LISTEN } });
    assert.match(check.stdout, /configuration OK \(listen 0\.0\.0\.0:11435/);

    // Every library keepwarm links against comes from a package the final stage installs.
    if (!have('readelf') || !have('dpkg')) {
      t.diagnostic('readelf or dpkg missing: runtime packages not checked');
      return;
    }
    const needed = [...mustRun('readelf', ['-d', bin]).stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
    assert.ok(needed.length >= 4, `NEEDED: ${needed}`);
    for (const lib of needed) {
      const owner = run('dpkg', ['-S', `*/${lib}`]).stdout.split('\n').map((l) => l.split(':')[0])
        .find((p) => p && !/-i386$|^lib32|^libx32/.test(p));
      assert.ok(owner, `${lib} belongs to a Debian package`);
      if (owner === 'libc6') continue;
      assert.ok(pkgs.includes(owner), `${lib} (package ${owner}) is installed in the final stage: ${pkgs}`);
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});

test('the man page renders cleanly and documents every flag and key', (t) => {
  const page = read('docs/keepwarm.1');
  const version = read('VERSION').trim();
  assert.match(page, new RegExp(`^\\.TH KEEPWARM 1 "[^"]+" "keepwarm ${version.replace(/\./g, '\\.')}"`, 'm'));

  // Tags of the .TP paragraphs: the names the page documents.
  const lines = page.split('\n');
  const tags = lines.filter((l, i) => i > 0 && lines[i - 1] === '.TP').join(' ').replace(/\\-/g, '-');
  const words = new Set(tags.match(/--?[a-z][a-z-]*|[a-z][a-z0-9_]*/g));

  const help = run(KEEPWARM_BIN, ['--help']).stdout;
  const flags = [...new Set(help.match(/--[a-z][a-z-]+/g))];
  assert.ok(flags.length >= 10);
  for (const f of flags) assert.ok(words.has(f), `flag ${f} is documented in docs/keepwarm.1`);

  // Keys: the tables of docs/configuration.md and the ones keepwarm's parser knows.
  const keys = new Set();
  for (const m of read('docs/configuration.md').matchAll(/^\| `([a-z_]+)`/gm)) keys.add(m[1]);
  for (const m of read('proxy/base/config.c').matchAll(/^\s*\{"([a-z_]+)", K_[A-Z]+/gm)) keys.add(m[1]);
  assert.ok(keys.size >= 20, `found ${keys.size} keys`);
  for (const k of keys) assert.ok(words.has(k), `key ${k} is documented in docs/keepwarm.1`);
  for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP']) assert.match(page, new RegExp(`\\b${s}\\b`));
  for (const e of ['/healthz', '/readyz', '/status', '/metrics']) assert.ok(tags.includes(e), `${e} documented`);
  const metrics = new Set();
  const sources = (dir) => fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(`${dir}/${e.name}`) : e.name.endsWith('.c') ? [`${dir}/${e.name}`] : []);
  for (const f of sources('proxy')) {
    for (const m of read(f).matchAll(/# TYPE (keepwarm_[a-z0-9_]+)/g)) metrics.add(m[1]);
  }
  assert.ok(metrics.size >= 10, `found ${metrics.size} metrics`);
  for (const m of metrics) assert.match(page, new RegExp(`\\b${m}\\b`), `metric ${m} is named in docs/keepwarm.1`);

  if (!have('groff')) {
    t.diagnostic('groff missing: rendering not checked');
    return;
  }
  const g = run('groff', ['-man', '-ww', '-z', path.join(root, 'docs/keepwarm.1')]);
  assert.equal(g.status, 0);
  assert.equal(g.stderr, '', 'groff -man -ww reports no warnings');
  const text = run('groff', ['-man', '-Tutf8', '-ww', path.join(root, 'docs/keepwarm.1')]).stdout
    .replace(/.\x08/g, ''); // overstrike (bold, underline)
  for (const h of ['OPTIONS', 'CONFIGURATION', 'ENDPOINTS', 'SIGNALS', 'ENVIRONMENT', 'FILES', 'EXAMPLES']) {
    assert.match(text, new RegExp(`^${h}$`, 'm'), `section ${h}`);
  }
});

test('the systemd unit: ordering, reload, sandbox; systemd-analyze verify accepts it', (t) => {
  const unit = read('conf/keepwarm.service');
  const entries = {};
  let section;
  for (const line of unit.split('\n')) {
    const s = line.match(/^\[(\w+)\]$/);
    if (s) section = s[1];
    const kv = line.match(/^([A-Za-z]+)=(.*)$/);
    if (kv) (entries[`${section}.${kv[1]}`] ??= []).push(kv[2]);
  }
  const one = (k) => entries[k]?.at(-1);
  assert.match(one('Unit.After'), /\bollama\.service\b/);
  assert.match(one('Unit.Wants'), /\bollama\.service\b/);
  // The paths `make install PREFIX=/usr` uses (see the install test).
  assert.equal(one('Service.ExecStart'), '/usr/bin/keepwarm -c /etc/keepwarm/keepwarm.ini');
  assert.equal(one('Service.ExecReload'), '/bin/kill -HUP $MAINPID');
  for (const [k, v] of [['DynamicUser', 'yes'], ['ProtectSystem', 'strict'], ['NoNewPrivileges', 'yes'],
    ['PrivateTmp', 'yes'], ['ProtectHome', 'yes']]) assert.equal(one(`Service.${k}`), v, k);
  assert.deepEqual(one('Service.RestrictAddressFamilies').split(' ').sort(), ['AF_INET', 'AF_INET6', 'AF_UNIX']);
  assert.ok(parseInt(one('Service.TimeoutStopSec'), 10) > 30, 'longer than the 30s shutdown_timeout');
  assert.equal(one('Install.WantedBy'), 'multi-user.target');

  if (!have('systemd-analyze')) {
    t.diagnostic('systemd-analyze missing: unit not verified');
    return;
  }
  const dir = tmpdir('unit');
  try {
    const file = path.join(dir, 'keepwarm.service');
    fs.writeFileSync(file, unit.replace('ExecStart=/usr/bin/keepwarm', `ExecStart=${KEEPWARM_BIN}`));
    const r = run('systemd-analyze', ['verify', '--man=no', file]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', 'no complaints');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
