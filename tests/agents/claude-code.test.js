// Anthropic's Claude Code (npm @anthropic-ai/claude-code, pinned in tests/package-lock.json; its
// native binary comes in @anthropic-ai/claude-code-linux-x64 and `npm ci` links it into
// bin/claude.exe) run headless with `claude -p` against keepwarm in front of the stand-in
// Ollama, as the README's setup says: ANTHROPIC_BASE_URL at keepwarm, ANTHROPIC_AUTH_TOKEN any
// value. Claude Code streams POST /v1/messages?beta=true with thinking "adaptive" and
// output_config.effort "high"; each test checks what the agent printed or did AND what reached
// the stand-in's /api/chat: keepwarm's keep_alive and the num_ctx of the ini's [model] section.
// Offline and quiet: temp HOME, telemetry, autoupdater, error reporting and nonessential traffic
// off (strace saw no connection outside loopback with these), and a deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { agentEnv, agentStack, assertPolicy, chats as chatsOf, runAgent, said } from './agent.js';

const DEADLINE_MS = 90000;

const KEY = 'sk-keepwarm-claude-test';

const stack = agentStack(['qwen3:8b', 'llama3.2:3b'], KEY);

// auth: {} for the open keepwarm (ANTHROPIC_AUTH_TOKEN any value, sent as a Bearer), or the
// variables and base URL for the keepwarm with api_key.
function claude(prompt, model, extraArgs = [], auth = {}) {
  const dirs = stack.tempDirs('claude');
  const env = agentEnv(dirs, {
    ANTHROPIC_BASE_URL: stack.kw.url,
    ANTHROPIC_AUTH_TOKEN: 'keepwarm',
    ...auth,
    DISABLE_TELEMETRY: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_ERROR_REPORTING: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  });
  const args = ['-p', prompt, '--model', model, ...extraArgs];
  return runAgent('claude', args, { env, cwd: dirs.work, timeoutMs: DEADLINE_MS }).then((r) => ({ ...r, dirs }));
}

function chats() {
  return chatsOf(stack.ctl);
}

test('claude -p: the answer arrives through keepwarm, Ollama saw keep_alive and the pinned num_ctx', async () => {
  await stack.ctl.post('script', { content: ['The', ' answer', ' is', ' forty-two.'] });
  const r = await claude('What is the answer?', 'qwen3:8b');
  assert.equal(r.timedOut, false, said(r));
  assert.equal(r.code, 0, said(r));
  assert.match(r.stdout, /The answer is forty-two\./, said(r));

  const c = await chats();
  assert.ok(c.length >= 1, 'a chat reached the stand-in');
  const turn = c.at(-1);
  assertPolicy(turn, 'qwen3:8b', 'turn');
  assert.equal(turn.body.stream, true);
  assert.equal(turn.body.options.num_predict, 32000, 'max_tokens -> num_predict, as Ollama maps it');
  assert.equal(turn.body.think, 'high', 'output_config.effort high -> think "high", as Ollama maps it');
  const user = turn.body.messages.findLast((m) => m.role === 'user');
  assert.match(user.content, /What is the answer\?/);
  assert.ok(turn.body.tools.some((t) => t.function?.name === 'Bash'), 'Claude Code\'s Bash tool offered to the model');
});

test('claude -p on a model that cannot think: no 400, the answer arrives (Ollama relaxes the thinking Claude Code asks for)', async () => {
  await stack.ctl.post('script', { content: ['Plain', ' answer.'] });
  const r = await claude('Answer plainly', 'llama3.2:3b');
  assert.equal(r.timedOut, false, said(r));
  assert.equal(r.code, 0, said(r));
  assert.match(r.stdout, /Plain answer\./, said(r));
  const ok = (await chats()).filter((q) => !q.body?.think);
  assert.ok(ok.length >= 1, 'a chat without think reached the stand-in');
  assertPolicy(ok.at(-1), 'llama3.2:3b', 'turn');
});

test('claude -p completes a task: the model calls Bash twice in one turn, Claude Code runs both in the workdir, the results go back, the final answer arrives', async () => {
  await stack.ctl.post('script', {
    tool_calls: [
      { function: { name: 'Bash', arguments: { command: 'echo made-by-claude > proof.txt', description: 'write the proof file' } } },
      { function: { name: 'Bash', arguments: { command: 'echo second > second.txt', description: 'write a second file' } } },
    ],
    after_tool: ['Wrote', ' proof.txt.'],
  });
  const r = await claude('Write made-by-claude into proof.txt', 'qwen3:8b', ['--allowedTools=Bash']);
  assert.equal(r.timedOut, false, said(r));
  assert.equal(r.code, 0, said(r));
  assert.equal(fs.readFileSync(`${r.dirs.work}/proof.txt`, 'utf8'), 'made-by-claude\n', said(r));
  assert.equal(fs.readFileSync(`${r.dirs.work}/second.txt`, 'utf8'), 'second\n', said(r));
  assert.match(r.stdout, /Wrote proof\.txt\./, said(r));

  const c = await chats();
  assert.equal(c.length, 2, 'two turns: the tool call, then the answer');
  assertPolicy(c[0], 'qwen3:8b', 'turn 1');
  assertPolicy(c[1], 'qwen3:8b', 'turn 2');
  const msgs = c[1].body.messages;
  const call = msgs.findLast((m) => m.role === 'assistant');
  assert.equal(call.tool_calls?.[0]?.function?.name, 'Bash', 'the call is in the history');
  // The stand-in's qwen3 thinks first: keepwarm streamed a thinking block, Claude Code sent it
  // back, and it returns to Ollama as the thinking of the call's message.
  assert.equal(call.thinking, 'Okay, the user wants a reply.', 'the thinking came back');
  // Claude Code puts a role "system" message inside messages; Ollama's layer passes it on.
  assert.ok(msgs.some((m, i) => i > 0 && m.role === 'system' && /# Environment/.test(m.content)),
    'the system message inside messages reached Ollama as a system message');
  assert.equal(call.tool_calls.length, 2, 'both calls in one assistant message');
  const results = msgs.slice(-2);
  assert.deepEqual(results.map((m) => m.role), ['tool', 'tool'], 'the two results close the history');
  assert.deepEqual(results.map((m) => m.tool_call_id), call.tool_calls.map((t) => t.id),
    'each result answers its call, by the id Ollama gave it');
});

for (const [how, auth] of [
  ['ANTHROPIC_API_KEY (x-api-key)', { ANTHROPIC_AUTH_TOKEN: undefined, ANTHROPIC_API_KEY: KEY }],
  ['ANTHROPIC_AUTH_TOKEN (Bearer)', { ANTHROPIC_AUTH_TOKEN: KEY }],
]) {
  test(`claude -p against keepwarm with api_key, the key in ${how}: accepted, the answer arrives, not forwarded`, async () => {
    await stack.ctl.post('script', { content: ['Keyed', ' and', ' warm.'] });
    // An undefined variable is left out of the CLI's environment (child_process drops it).
    const r = await claude('Are you there?', 'qwen3:8b', [], { ...auth, ANTHROPIC_BASE_URL: stack.kwKeyed.url });
    assert.equal(r.timedOut, false, said(r));
    assert.equal(r.code, 0, said(r));
    assert.match(r.stdout, /Keyed and warm\./, said(r));
    const turn = (await chats()).at(-1);
    assertPolicy(turn, 'qwen3:8b', 'turn');
    assert.equal(turn.headers.authorization, undefined, 'no Authorization reaches Ollama');
    assert.equal(turn.headers['x-api-key'], undefined, 'no x-api-key reaches Ollama');
  });
}

test('claude -p with a model Ollama does not have: Ollama\'s 404 reaches Claude Code, which names the model and exits', async () => {
  const r = await claude('Hello?', 'nosuch:1b');
  assert.equal(r.timedOut, false, said(r));
  assert.notEqual(r.code, 0, said(r));
  assert.match(r.stdout + r.stderr, /issue with the selected model \(nosuch:1b\)/, said(r));
  const c = await chats();
  assert.ok(c.length >= 1 && c.every((q) => q.body.model === 'nosuch:1b'), 'the request went to Ollama, which answered 404');
});
