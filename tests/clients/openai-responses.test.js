// The official `openai` package's Responses client (`client.responses.create`, stream and not)
// against keepwarm in front of the stand-in Ollama: the SDK parses keepwarm's objects and
// named events as it parses OpenAI's (output_text, the stream helpers, function calls, errors),
// with what reached the stand-in's /api/chat checked through /_fake/requests.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startFake, startKeepwarm, FakeControl } from '../integration/harness.js';

let fake, kw, ctl, client;

before(async () => {
  fake = await startFake([]);
  ctl = new FakeControl(fake);
  kw = await startKeepwarm(fake.url, ['--keep-alive', '1h']);
  client = new OpenAI({ baseURL: `${kw.url}/v1`, apiKey: 'sk-unused', maxRetries: 0, timeout: 10000 });
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

const tools = [{
  type: 'function', name: 'get_weather', description: 'Weather for a city', strict: false,
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
}];

test('responses.create: output_text, reasoning, usage; keep_alive injected', async () => {
  const r = await client.responses.create({ model: 'qwen3:8b', input: 'Say hello', instructions: 'Be brief.' });
  assert.equal(r.object, 'response');
  assert.equal(r.status, 'completed');
  assert.equal(r.output_text, 'Hello from fake ollama.');
  assert.equal(r.output[0].type, 'reasoning');
  assert.ok(r.usage.output_tokens > 0);
  const q = await ctl.lastRequest('/api/chat');
  assert.equal(q.body.keep_alive, 3600);
  assert.equal(q.body.messages[0].role, 'system');
});

test('responses.create stream: deltas, then the completed response', async () => {
  const stream = await client.responses.create({ model: 'qwen3:8b', input: 'Say hello', stream: true });
  let text = '', thinking = '', completed;
  const seen = [];
  for await (const ev of stream) {
    seen.push(ev.type);
    if (ev.type === 'response.output_text.delta') text += ev.delta;
    if (ev.type === 'response.reasoning_summary_text.delta') thinking += ev.delta;
    if (ev.type === 'response.completed') completed = ev.response;
  }
  assert.equal(seen[0], 'response.created');
  assert.equal(text, 'Hello from fake ollama.');
  assert.equal(thinking, 'Okay, the user wants a reply.');
  assert.equal(completed.output_text ?? completed.output.at(-1).content[0].text, text);
  assert.equal((await ctl.lastRequest('/api/chat')).body.stream, true);
});

test('responses.stream helper: finalResponse and text events', async () => {
  const stream = client.responses.stream({ model: 'llama3.2:3b', input: 'Say hello' });
  let deltas = '';
  stream.on('response.output_text.delta', (e) => { deltas += e.delta; });
  const final = await stream.finalResponse();
  assert.equal(deltas, 'Hello from fake ollama.');
  assert.equal(final.output_text, deltas);
});

test('function calls: parsed by the SDK, and a tool result round trip', async () => {
  await ctl.post('script', {
    tool_calls: [{ id: 'call_9', function: { name: 'get_weather', arguments: { city: 'Paris' } } }],
  });
  const r = await client.responses.create({ model: 'llama3.2:3b', input: 'Weather in Paris?', tools });
  const call = r.output.find((o) => o.type === 'function_call');
  assert.equal(call.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.arguments), { city: 'Paris' });

  await ctl.post('script', {});
  const r2 = await client.responses.create({
    model: 'llama3.2:3b', tools,
    input: [{ role: 'user', content: 'Weather in Paris?' }, call,
      { type: 'function_call_output', call_id: call.call_id, output: '21 C' }],
  });
  assert.equal(r2.output_text, 'Hello from fake ollama.');
  const msgs = (await ctl.lastRequest('/api/chat')).body.messages;
  assert.deepEqual(msgs.map((m) => m.role), ['user', 'assistant', 'tool']);
  assert.equal(msgs[2].tool_call_id, 'call_9');
});

test('errors surface as the SDK\'s error classes', async () => {
  await assert.rejects(client.responses.create({ model: 'missing:1b', input: 'x' }),
    (e) => e instanceof OpenAI.NotFoundError && /model 'missing:1b' not found/.test(e.message));
  await assert.rejects(client.responses.create({ model: 'qwen3:8b', input: 'x', reasoning: { effort: 'huge' } }),
    (e) => e instanceof OpenAI.BadRequestError && /invalid reasoning value/.test(e.message));
});
