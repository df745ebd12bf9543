// The official `@anthropic-ai/sdk` against keepwarm in front of the stand-in Ollama:
// messages.create and messages.stream (text, tools, thinking), countTokens, and errors as the
// SDK's typed exceptions, with what reached the stand-in's native API checked through
// /_fake/requests.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { startFake, startKeepwarm, FakeControl } from '../integration/harness.js';

let fake, kw, ctl, client;

before(async () => {
  fake = await startFake();
  ctl = new FakeControl(fake);
  kw = await startKeepwarm(fake.url, ['--keep-alive', '1h', '--api-key', 'sk-ant-test']);
  client = new Anthropic({ baseURL: kw.url, apiKey: 'sk-ant-test', maxRetries: 0, timeout: 10000 });
});

after(async () => {
  let code;
  try {
    code = await kw?.stop();
  } finally {
    await fake?.stop();
  }
  assert.equal(code, 0, `keepwarm exit code (output: ${kw?.output})`);
});

beforeEach(async () => { await ctl.reset(); });

const weather = {
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

test('messages.create: text, and Ollama gets keepwarm\'s keep_alive', async () => {
  const m = await client.messages.create({
    model: 'llama3.2:3b', max_tokens: 64, system: 'Be brief.',
    messages: [{ role: 'user', content: 'Hello' }],
  });
  assert.equal(m.type, 'message');
  assert.match(m.id, /^msg_/);
  assert.equal(m.stop_reason, 'end_turn');
  assert.deepEqual(m.content, [{ type: 'text', text: 'Hello from fake ollama.' }]);
  const up = await ctl.lastRequest('/api/chat');
  assert.equal(up.body.keep_alive, 3600);
  assert.equal(up.body.options.num_predict, 64);
  assert.deepEqual(up.body.messages[0], { role: 'system', content: 'Be brief.' });
});

test('messages.create with tools and thinking: thinking and tool_use blocks', async () => {
  await ctl.post('script', { content: [], tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }] });
  const m = await client.messages.create({
    model: 'qwen3:8b', max_tokens: 256, tools: [weather],
    thinking: { type: 'enabled', budget_tokens: 1024 },
    messages: [{ role: 'user', content: 'Weather in Paris?' }],
  });
  assert.equal(m.stop_reason, 'tool_use');
  assert.deepEqual(m.content.map((b) => b.type), ['thinking', 'tool_use']);
  const use = m.content[1];
  assert.deepEqual(use.input, { city: 'Paris' });
  // the tool result goes back, and Ollama gets it as a tool message
  await ctl.post('script', {});
  const next = await client.messages.create({
    model: 'qwen3:8b', max_tokens: 256, tools: [weather],
    messages: [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: m.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '21C, sunny' }] },
    ],
  });
  assert.equal(next.stop_reason, 'end_turn');
  const up = await ctl.lastRequest('/api/chat');
  assert.deepEqual(up.body.messages.slice(-1)[0], { role: 'tool', content: '21C, sunny', tool_call_id: use.id });
  assert.equal(up.body.messages[1].tool_calls[0].function.name, 'get_weather');
});

test('messages.stream: text deltas, finalMessage, and thinking + tool_use accumulated by the SDK', async () => {
  const stream = client.messages.stream({
    model: 'llama3.2:3b', max_tokens: 64, messages: [{ role: 'user', content: 'Hello' }],
  });
  let text = '';
  stream.on('text', (t) => { text += t; });
  const final = await stream.finalMessage();
  assert.equal(text, 'Hello from fake ollama.');
  assert.equal(final.stop_reason, 'end_turn');
  assert.equal(final.content[0].text, 'Hello from fake ollama.');
  assert.equal((await ctl.lastRequest('/api/chat')).body.stream, true);

  await ctl.post('script', { content: [], tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Oslo' } } }] });
  const s2 = client.messages.stream({
    model: 'qwen3:8b', max_tokens: 256, tools: [weather], thinking: { type: 'enabled', budget_tokens: 1024 },
    messages: [{ role: 'user', content: 'Weather in Oslo?' }],
  });
  let thinking = '';
  s2.on('thinking', (t) => { thinking += t; });
  const f2 = await s2.finalMessage();
  assert.equal(thinking, 'Okay, the user wants a reply.');
  assert.deepEqual(f2.content.map((b) => b.type), ['thinking', 'tool_use']);
  assert.deepEqual(f2.content[1].input, { city: 'Oslo' });
  assert.equal(f2.stop_reason, 'tool_use');
});

test('thinking on a model without the capability still answers (relax_thinking)', async () => {
  const m = await client.messages.create({
    model: 'llama3.2:3b', max_tokens: 64, thinking: { type: 'enabled', budget_tokens: 1024 },
    messages: [{ role: 'user', content: 'Hello' }],
  });
  assert.equal(m.content[0].text, 'Hello from fake ollama.');
});

test('countTokens: keepwarm\'s estimate, as Ollama\'s message_start reports it', async () => {
  const r = await client.messages.countTokens({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'Hello, world!' }] });
  assert.deepEqual(r, { input_tokens: 4 });
});

test('errors come back as the SDK\'s typed errors', async () => {
  await assert.rejects(
    client.messages.create({ model: 'nope:1b', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof Anthropic.NotFoundError && e.error?.error?.type === 'not_found_error' && /not found/.test(e.message),
  );
  await assert.rejects(
    client.messages.create({ model: 'llama3.2:3b', max_tokens: 0, messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof Anthropic.BadRequestError && /max_tokens is required/.test(e.message),
  );
  const noKey = new Anthropic({ baseURL: kw.url, apiKey: 'sk-wrong', maxRetries: 0 });
  await assert.rejects(
    noKey.messages.create({ model: 'llama3.2:3b', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof Anthropic.AuthenticationError && e.error?.error?.type === 'authentication_error',
  );
});

test('a slow load: the waiting comments before message_start do not disturb the SDK, and relax_thinking still applies', async () => {
  const slowFake = await startFake(['--load-delay', '700']);
  const slowKw = await startKeepwarm(slowFake.url, [], { KEEPWARM_WAIT_COMMENT_INTERVAL: '200ms' });
  try {
    const raw = await fetch(`${slowKw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'llama3.2:3b', max_tokens: 32, stream: true, messages: [{ role: 'user', content: 'Hi' }] }),
    });
    const text = await raw.text();
    assert.match(text, /^: waiting for model\n\n/, 'the comment comes first while Ollama loads');
    assert.match(text, /event: message_stop/);
    await new FakeControl(slowFake).post('evict', { model: 'llama3.2:3b' });
    const sdk = new Anthropic({ baseURL: slowKw.url, apiKey: 'unused', maxRetries: 0 });
    const s = sdk.messages.stream({
      model: 'llama3.2:3b', max_tokens: 32, thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [{ role: 'user', content: 'Hi' }],
    });
    const final = await s.finalMessage();
    assert.equal(final.content[0].text, 'Hello from fake ollama.');
  } finally {
    await slowKw.stop();
    await slowFake.stop();
  }
});
