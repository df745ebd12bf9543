// OpenAI's Codex CLI (npm @openai/codex, pinned in tests/package-lock.json; its native binary
// comes in @openai/codex-linux-x64) run headless with `codex exec --oss --local-provider ollama`
// against keepwarm in front of the stand-in Ollama, as the README's setup says. Codex asks
// GET /v1/models, /api/version (it wants Ollama >= 0.13.4), /api/tags, then streams
// POST /v1/responses; each test checks what the agent printed or did AND what reached the
// stand-in's /api/chat: keepwarm's keep_alive and the num_ctx of the ini's [model] section.
// Offline and quiet: temp HOME/CODEX_HOME, --ephemeral, plugins and analytics off (strace saw
// no lookup outside loopback with these), and a deadline that kills a hung CLI.
// The stand-in's script answers a turn that ends with a tool result with `after_tool`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import {
  agentEnv, agentStack, assertPolicy as assertPolicyOf, chats as chatsOf, groupAlive, runAgent, said,
} from './agent.js';

const MODEL = 'qwen3:8b';
const DEADLINE_MS = 90000;

const KEY = 'sk-keepwarm-codex-test';

const stack = agentStack([MODEL], KEY);

// provider 'oss': --oss --local-provider ollama with CODEX_OSS_BASE_URL (the README's first
// setup); provider 'keyed': keepwarm as a model provider in $CODEX_HOME/config.toml with its
// API key from the environment (the README's second setup), against the keepwarm with api_key;
// provider 'openai': Codex's built-in OpenAI provider with openai_base_url at keepwarm.
// url: where 'oss' points (keepwarm unless given).
function codex(prompt, extraArgs = [], provider = 'oss', timeoutMs = DEADLINE_MS, url = stack.kw.url) {
  const dirs = stack.tempDirs('codex');
  let env, mode;
  if (provider === 'oss') {
    env = agentEnv(dirs, { CODEX_HOME: dirs.codex, CODEX_OSS_BASE_URL: `${url}/v1` });
    mode = ['--oss', '--local-provider', 'ollama', '-m', MODEL];
  } else if (provider === 'openai') {
    env = agentEnv(dirs, { CODEX_HOME: dirs.codex });
    mode = ['-m', MODEL, '-c', `openai_base_url=${stack.kw.url}/v1`];
  } else {
    fs.writeFileSync(`${dirs.codex}/config.toml`, [
      `model = "${MODEL}"`,
      'model_provider = "keepwarm"',
      '[model_providers.keepwarm]',
      'name = "keepwarm"',
      `base_url = "${stack.kwKeyed.url}/v1"`,
      'env_key = "KEEPWARM_API_KEY"',
      '',
    ].join('\n'));
    env = agentEnv(dirs, { CODEX_HOME: dirs.codex, KEEPWARM_API_KEY: KEY });
    mode = [];
  }
  const args = ['exec', ...mode,
    '--skip-git-repo-check', '--ephemeral', '--color', 'never',
    '--disable', 'plugins', '-c', 'analytics.enabled=false',
    '-c', 'check_for_update_on_startup=false', ...extraArgs, prompt];
  return runAgent('codex', args, { env, cwd: dirs.work, timeoutMs }).then((r) => ({ ...r, dirs }));
}

function chats() {
  return chatsOf(stack.ctl);
}

function assertPolicy(q, what) {
  assertPolicyOf(q, MODEL, what);
}

test('codex exec --oss: the answer arrives through keepwarm, Ollama saw keep_alive and the pinned num_ctx', async () => {
  await stack.ctl.post('script', { content: ['The', ' answer', ' is', ' forty-two.'] });
  const r = await codex('What is the answer?');
  assert.equal(r.timedOut, false, said(r));
  assert.equal(r.code, 0, said(r));
  assert.match(r.stdout, /The answer is forty-two\./, said(r));

  const seen = (await stack.ctl.requests()).map((q) => `${q.method} ${q.path}`);
  assert.ok(seen.includes('GET /api/version'), `Codex's version check reached Ollama: ${seen}`);
  const c = await chats();
  assert.equal(c.length, 1, `one turn, one chat: ${seen}`);
  assertPolicy(c[0], 'turn');
  assert.equal(c[0].body.stream, true);
  const last = c[0].body.messages.at(-1);
  assert.equal(last.role, 'user');
  assert.match(last.content, /What is the answer\?/);
  assert.ok(c[0].body.tools.some((t) => t.function?.name === 'exec_command'), 'Codex\'s shell tool offered to the model');
});

test('codex exec --oss completes a task: the model calls exec_command twice in one turn, Codex runs both in the workdir, the results go back, the final answer arrives', async () => {
  await stack.ctl.post('script', {
    tool_calls: [
      { function: { name: 'exec_command', arguments: { cmd: 'echo made-by-codex > proof.txt' } } },
      { function: { name: 'exec_command', arguments: { cmd: 'echo second > second.txt' } } },
    ],
    after_tool: ['Wrote', ' proof.txt.'],
  });
  // The command is the script's fixed echo in a temp dir: no sandbox needed, and Codex's
  // bubblewrap sandbox needs user namespaces, which some CI containers do not allow.
  const r = await codex('Write made-by-codex into proof.txt', ['--dangerously-bypass-approvals-and-sandbox']);
  assert.equal(r.timedOut, false, said(r));
  assert.equal(r.code, 0, said(r));
  assert.equal(fs.readFileSync(`${r.dirs.work}/proof.txt`, 'utf8'), 'made-by-codex\n', said(r));
  assert.equal(fs.readFileSync(`${r.dirs.work}/second.txt`, 'utf8'), 'second\n', said(r));
  assert.match(r.stdout, /Wrote proof\.txt\./, said(r));

  const c = await chats();
  assert.equal(c.length, 2, 'two turns: the tool call, then the answer');
  assertPolicy(c[0], 'turn 1');
  assertPolicy(c[1], 'turn 2');
  const msgs = c[1].body.messages;
  const call = msgs.findLast((m) => m.role === 'assistant');
  assert.equal(call.tool_calls?.[0]?.function?.name, 'exec_command', 'the call is in the history');
  // The stand-in's qwen3 thinks first; keepwarm sent it as a reasoning item with
  // encrypted_content, Codex sent that back (include: reasoning.encrypted_content, store: false),
  // and it returns to Ollama as the thinking of the call's message, as Ollama's own layer does.
  assert.equal(call.thinking, 'Okay, the user wants a reply.', 'the reasoning came back as thinking');
  assert.equal(msgs[0].role, 'developer', 'Codex\'s instructions pass as role developer, as in Ollama');
  assert.equal(call.tool_calls.length, 2, 'both calls in one assistant message');
  const results = msgs.slice(-2);
  assert.deepEqual(results.map((m) => m.role), ['tool', 'tool'], 'the two results close the history');
  assert.deepEqual(results.map((m) => m.tool_call_id), call.tool_calls.map((t) => t.id),
    'each result answers its call, by the id Ollama gave it');
  for (const m of results) assert.match(m.content, /exited with code 0/, 'Codex reported the command\'s exit');
});

test('codex exec with keepwarm as a model provider in config.toml, behind api_key: the key is accepted, the answer arrives, Ollama saw keep_alive and num_ctx', async () => {
  await stack.ctl.post('script', { content: ['Keyed', ' and', ' warm.'] });
  const r = await codex('Are you there?', [], 'keyed');
  assert.equal(r.timedOut, false, said(r));
  assert.equal(r.code, 0, said(r));
  assert.match(r.stdout, /Keyed and warm\./, said(r));
  const c = await chats();
  assert.equal(c.length, 1);
  assertPolicy(c[0], 'turn');
  assert.equal(c[0].headers.authorization, undefined, 'the client key is not forwarded to Ollama');
});

test('codex exec with its built-in OpenAI provider at keepwarm: the Responses WebSocket it tries first gets 405, it falls back to HTTP and the answer arrives', async () => {
  await stack.ctl.post('script', { content: ['Over', ' plain', ' HTTP.'] });
  const r = await codex('Hello?', [], 'openai');
  assert.equal(r.timedOut, false, said(r));
  assert.equal(r.code, 0, said(r));
  assert.match(r.stdout, /Over plain HTTP\./, said(r));
  const c = await chats();
  assert.equal(c.length, 1, 'the upgrade attempts never reached Ollama');
  assertPolicy(c[0], 'turn');
  assert.ok(!(await stack.ctl.requests()).some((q) => q.method === 'GET' && q.path.startsWith('/v1/')));
  assert.match(stack.kw.output, /method=GET path="\/v1\/responses".* status=405/, 'keepwarm answered the upgrade 405');
});

// The test's own timeout: were the deadline's kill to miss the native binary that Codex's
// launcher starts, its open pipes would keep runAgent waiting, and this fails instead of hanging.
test('a hung agent fails its test instead of hanging CI: Codex waiting on a server that never answers is killed at the deadline, with its process group', { timeout: 30000 }, async () => {
  const silent = http.createServer(() => { /* never answers */ });
  await new Promise((r) => silent.listen(0, '127.0.0.1', r));
  try {
    const r = await codex('Hello?', [], 'oss', 3000, `http://127.0.0.1:${silent.address().port}`);
    assert.equal(r.timedOut, true, said(r));
    assert.equal(r.signal, 'SIGKILL');
    for (let i = 0; i < 50 && groupAlive(r.pid); i++) await new Promise((w) => setTimeout(w, 100));
    assert.equal(groupAlive(r.pid), false, 'no process of the CLI\'s group is left');
  } finally {
    silent.closeAllConnections();
    silent.close();
  }
});
