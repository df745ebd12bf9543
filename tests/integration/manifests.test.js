// conf/compose.yaml and conf/kubernetes.yaml, parsed (CI has no Docker engine and no cluster):
// the sidecar reaches Ollama, probes and the Service reach keepwarm, and the configuration they
// give keepwarm is one that `keepwarm --check` accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { KEEPWARM_BIN } from './harness.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (p) => fs.readFileSync(path.join(root, p), 'utf8');
const portOf = (hostport) => Number(String(hostport).split(':').pop());

function parseStrict(text, file) {
  const docs = YAML.parseAllDocuments(text, { uniqueKeys: true });
  for (const d of docs) assert.deepEqual(d.errors, [], `${file}: ${d.errors.join('; ')}`);
  return docs.map((d) => d.toJS());
}

// keepwarm --check with this environment (and file): what the container would run.
function check(env, args = []) {
  const r = spawnSync(KEEPWARM_BIN, [...args, '--check'], {
    encoding: 'utf8', env: { PATH: process.env.PATH, ...env },
  });
  assert.equal(r.status, 0, `keepwarm --check: ${r.stderr}`);
  return r.stdout;
}

// The image's own settings, which compose and Kubernetes build on.
const dockerfile = read('conf/Dockerfile');
const imageListen = dockerfile.match(/^ENV KEEPWARM_LISTEN=(\S+)$/m)[1];
const imageUser = dockerfile.match(/^USER (\d+):(\d+)$/m);

test('compose.yaml: keepwarm is the sidecar of the stock ollama image and the only way in', () => {
  const [c] = parseStrict(read('conf/compose.yaml'), 'compose.yaml');
  const { ollama, keepwarm } = c.services;
  assert.match(ollama.image, /^ollama\/ollama(:|$)/);
  assert.equal(ollama.ports, undefined, 'Ollama is not published: clients go through keepwarm');
  const ollamaPort = portOf(ollama.environment.OLLAMA_HOST);
  assert.match(ollama.environment.OLLAMA_HOST, /^0\.0\.0\.0:/, 'Ollama listens on the compose network');
  assert.ok(ollama.healthcheck?.test?.length, 'Ollama has a health check');
  assert.ok(Object.keys(c.volumes).includes(ollama.volumes[0].split(':')[0]), 'models live on a named volume');

  // Built from the Dockerfile, relative to the compose file.
  const dockerfilePath = path.resolve(root, 'conf', keepwarm.build.context, keepwarm.build.dockerfile);
  assert.equal(dockerfilePath, path.join(root, 'conf/Dockerfile'));
  assert.equal(keepwarm.depends_on.ollama.condition, 'service_healthy');

  const env = keepwarm.environment;
  const up = new URL(env.KEEPWARM_UPSTREAM);
  assert.equal(up.hostname, 'ollama', 'the upstream is the ollama service');
  assert.equal(Number(up.port), ollamaPort);
  const listenPort = portOf(env.KEEPWARM_LISTEN);
  assert.equal(listenPort, portOf(imageListen));
  assert.deepEqual(keepwarm.ports.map((p) => portOf(p)), [listenPort], 'keepwarm\'s port is published');
  const hc = keepwarm.healthcheck.test.join(' ');
  assert.match(hc, new RegExp(`http://127\\.0\\.0\\.1:${listenPort}/healthz`));
  const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  assert.match(finalStage, new RegExp(`apt-get install[^&]*\\s${keepwarm.healthcheck.test[1]}\\s`), 'the check\'s tool is in the image');
  assert.ok(parseInt(keepwarm.stop_grace_period, 10) > 30, 'longer than shutdown_timeout');

  // The settings are valid, with the image's configuration file beneath them.
  const out = check(Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])), ['-c', path.join(root, 'conf/keepwarm.ini')]);
  assert.match(out, new RegExp(`listen 0\\.0\\.0\\.0:${listenPort}, upstream http://ollama:${ollamaPort}`));
});

test('kubernetes.yaml: sidecar, probes on /readyz and /healthz, Service on keepwarm\'s port, ConfigMap passed with -c', () => {
  const docs = parseStrict(read('conf/kubernetes.yaml'), 'kubernetes.yaml');
  const byKind = (k) => docs.filter((d) => d.kind === k);
  const [ns] = byKind('Namespace');
  const [cm] = byKind('ConfigMap');
  const [dep] = byKind('Deployment');
  const [svc] = byKind('Service');
  for (const d of [cm, dep, svc, ...byKind('PersistentVolumeClaim')]) {
    assert.equal(d.metadata.namespace, ns.metadata.name, `${d.kind} ${d.metadata.name} is in the namespace`);
  }

  const pod = dep.spec.template.spec;
  assert.deepEqual(dep.spec.selector.matchLabels, dep.spec.template.metadata.labels);
  const byName = Object.fromEntries(pod.containers.map((c) => [c.name, c]));
  const { ollama, keepwarm } = byName;
  assert.match(ollama.image, /^ollama\/ollama(:|$)/);
  const envOf = (c) => Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));

  // Ollama on the pod's loopback: only keepwarm reaches it.
  const ollamaHost = envOf(ollama).OLLAMA_HOST;
  assert.match(ollamaHost, /^127\.0\.0\.1:\d+$/);
  assert.equal(ollama.ports[0].containerPort, portOf(ollamaHost));
  const volumeNames = pod.volumes.map((v) => v.name);
  for (const m of ollama.volumeMounts) assert.ok(volumeNames.includes(m.name));
  const models = pod.volumes.find((v) => v.name === ollama.volumeMounts[0].name);
  assert.equal(models.persistentVolumeClaim.claimName, byKind('PersistentVolumeClaim')[0].metadata.name);
  assert.equal(dep.spec.strategy.type, 'Recreate', 'a ReadWriteOnce model volume is not shared during a rollout');

  // keepwarm: its port, its probes, its upstream.
  const env = envOf(keepwarm);
  const port = keepwarm.ports.find((p) => p.name === 'http');
  assert.equal(port.containerPort, portOf(env.KEEPWARM_LISTEN));
  assert.match(env.KEEPWARM_LISTEN, /^0\.0\.0\.0:/, 'probes and the Service reach the pod IP');
  assert.equal(env.KEEPWARM_UPSTREAM, `http://127.0.0.1:${portOf(ollamaHost)}`);
  const resolve = (c, p) => (typeof p === 'number' ? p : c.ports.find((x) => x.name === p)?.containerPort);
  assert.equal(keepwarm.readinessProbe.httpGet.path, '/readyz');
  assert.equal(resolve(keepwarm, keepwarm.readinessProbe.httpGet.port), port.containerPort);
  assert.equal(keepwarm.livenessProbe.httpGet.path, '/healthz');
  assert.equal(resolve(keepwarm, keepwarm.livenessProbe.httpGet.port), port.containerPort);

  // The Service selects the pod and targets keepwarm's port, never Ollama's.
  for (const [k, v] of Object.entries(svc.spec.selector)) assert.equal(dep.spec.template.metadata.labels[k], v);
  assert.equal(svc.spec.ports.length, 1);
  const target = svc.spec.ports[0].targetPort;
  assert.equal(resolve(keepwarm, target), port.containerPort, 'targetPort is keepwarm\'s');
  assert.equal(resolve(ollama, target), undefined, 'and not a port of the ollama container');

  // The ConfigMap is mounted where -c points.
  const conf = keepwarm.args[keepwarm.args.indexOf('-c') + 1];
  const mount = keepwarm.volumeMounts.find((m) => conf.startsWith(m.mountPath + '/'));
  assert.ok(mount, `${conf} is on a mounted volume`);
  const vol = pod.volumes.find((v) => v.name === mount.name);
  assert.equal(vol.configMap.name, cm.metadata.name);
  const ini = cm.data[path.basename(conf)];
  assert.ok(ini, `the ConfigMap has ${path.basename(conf)}`);

  // The sidecar's configuration, as the container sees it, is valid and pins a model.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kw-k8s-'));
  try {
    fs.writeFileSync(path.join(dir, 'keepwarm.ini'), ini);
    const out = check({ ...env, KEEPWARM_LISTEN: env.KEEPWARM_LISTEN ?? imageListen }, ['-c', path.join(dir, 'keepwarm.ini')]);
    assert.match(out, new RegExp(`listen 0\\.0\\.0\\.0:${port.containerPort}, upstream http://127\\.0\\.0\\.1:${portOf(ollamaHost)}, [1-9]\\d* pinned`));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  // Runs as the image's non-root user, and has time to drain.
  const sc = keepwarm.securityContext;
  assert.equal(sc.runAsNonRoot, true);
  assert.equal(String(sc.runAsUser), imageUser[1]);
  assert.equal(sc.readOnlyRootFilesystem, true);
  assert.equal(sc.allowPrivilegeEscalation, false);
  const preStop = Number(keepwarm.lifecycle?.preStop?.exec?.command?.at(-1) ?? 0);
  assert.ok(pod.terminationGracePeriodSeconds > 30 + preStop, 'grace period covers preStop and shutdown_timeout');
});
