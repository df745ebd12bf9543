// conf/grafana-dashboard.json queries only metrics and labels that keepwarm's /metrics really
// has, once traffic has made the labelled series exist.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFake, startKeepwarm, sleep, stopAll } from './harness.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dashboard = JSON.parse(fs.readFileSync(path.join(root, 'conf/grafana-dashboard.json'), 'utf8'));
const procs = [];
after(() => stopAll(procs));

// Prometheus text → Map(series name → Set(label names)).
function parseExposition(text) {
  const series = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)$/);
    assert.ok(m, `a well-formed sample line: ${line}`);
    assert.ok(!Number.isNaN(Number(m[3])) || /^[+-]Inf$|^NaN$/.test(m[3]), `a number: ${line}`);
    const labels = series.get(m[1]) ?? new Set();
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) labels.add(l[1]);
    series.set(m[1], labels);
  }
  return series;
}

function panelsOf(d) {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

function queries(d) {
  const out = [];
  for (const p of panelsOf(d)) for (const t of p.targets ?? []) out.push({ panel: p.title, expr: t.expr });
  for (const v of d.templating.list) {
    if (v.type === 'query') out.push({ panel: `variable ${v.name}`, expr: v.definition });
  }
  return out;
}

test('the dashboard is well formed', () => {
  assert.equal(dashboard.uid, 'keepwarm');
  const ids = new Set();
  for (const p of panelsOf(dashboard)) {
    assert.ok(!ids.has(p.id), `panel id ${p.id} is unique`);
    ids.add(p.id);
    assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${p.title} fits the grid`);
    if (p.type === 'row') continue;
    assert.ok(p.targets.length > 0, `${p.title} has queries`);
    assert.equal(p.datasource.uid, '${datasource}');
    assert.equal(new Set(p.targets.map((t) => t.refId)).size, p.targets.length, `${p.title}: refIds unique`);
  }
  for (const { panel, expr } of queries(dashboard)) {
    for (const [open, close] of ['()', '{}', '[]']) {
      assert.equal(expr.split(open).length, expr.split(close).length, `${panel}: balanced ${open}${close} in ${expr}`);
    }
    if (!panel.startsWith('variable')) assert.match(expr, /instance=~"\$instance"/, `${panel} follows the instance selector`);
  }
});

test('every metric and label the dashboard queries exists in /metrics', async (t) => {
  const fake = await startFake();
  procs.push(fake);
  const kw = await startKeepwarm(fake.url, ['--pin', 'llama3.2:3b', '--ping-interval', '100ms']);
  procs.push(kw);
  // Traffic on every kind of route, streamed and not, so the labelled series exist.
  const post = (p, body) => fetch(`${kw.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const msgs = [{ role: 'user', content: 'hi' }];
  for (const r of [
    await post('/v1/chat/completions', { model: 'llama3.2:3b', messages: msgs }),
    await post('/v1/chat/completions', { model: 'llama3.2:3b', messages: msgs, stream: true }),
    await post('/api/chat', { model: 'llama3.2:3b', messages: msgs }),
    await post('/v1/embeddings', { model: 'nomic-embed-text', input: 'x' }),
    await fetch(`${kw.url}/readyz`),
  ]) {
    await r.arrayBuffer();
  }
  await sleep(250); // a warm-loop round or two
  const series = parseExposition(await (await fetch(`${kw.url}/metrics`)).text());

  const used = new Set();
  for (const { panel, expr } of queries(dashboard)) {
    const names = [...expr.matchAll(/\bkeepwarm_[a-z0-9_]+\b/g)].map((m) => m[0]);
    assert.ok(names.length > 0, `${panel} queries a keepwarm metric: ${expr}`);
    const labels = new Set(['instance', 'job']);
    for (const n of names) {
      used.add(n);
      assert.ok(series.has(n), `${panel}: ${n} is in /metrics`);
      for (const l of series.get(n)) labels.add(l);
    }
    // Label matchers on each selector, and the labels aggregations group by.
    for (const m of expr.matchAll(/(keepwarm_[a-z0-9_]+)\{([^}]*)\}/g)) {
      for (const l of m[2].matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)) {
        assert.ok(l[1] === 'instance' || series.get(m[1]).has(l[1]), `${panel}: ${m[1]} has label ${l[1]}`);
      }
    }
    for (const m of expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) {
      for (const l of m[1].split(',').map((s) => s.trim()).filter(Boolean)) {
        assert.ok(labels.has(l), `${panel}: grouped by ${l}, a label of ${names.join(', ')}`);
      }
    }
  }
  // What the dashboard is for: requests, latency, time to first token, tokens, models, reloads.
  for (const n of ['keepwarm_requests_total', 'keepwarm_request_duration_seconds_bucket',
    'keepwarm_time_to_first_token_seconds_bucket', 'keepwarm_tokens_total', 'keepwarm_model_loaded',
    'keepwarm_model_reloads_total']) assert.ok(used.has(n), `the dashboard shows ${n}`);
  const unused = [...series.keys()].filter((n) => !used.has(n) && !/_(bucket|sum|count)$/.test(n));
  if (unused.length) t.diagnostic(`metrics not on the dashboard: ${unused.join(', ')}`);
});
