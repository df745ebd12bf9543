// The AI SDK (`ai` with `@ai-sdk/openai`'s Responses model, openai.responses(model)) against
// keepwarm's POST /v1/responses: generateText, streamText, and a tool the SDK executes between
// two steps. Each test checks what the application got AND what reached the stand-in's
// /api/chat: keepwarm's keep_alive, the [model] section's num_ctx, and the mapped options.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { generateText, streamText, tool, jsonSchema, stepCountIs } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { startFake, startKeepwarm, FakeControl, iniFile } from '../integration/harness.js';

const MODEL = 'llama3.2:3b';
const KEEP_ALIVE_S = 7200;
const NUM_CTX = 8192;

let fake, kw, ctl, openai;
let sent = []; // bodies the SDK sent to keepwarm

before(async () => {
  fake = await startFake();
  ctl = new FakeControl(fake);
  kw = await startKeepwarm(fake.url, ['-c', iniFile(`[model "${MODEL}"]\nnum_ctx = ${NUM_CTX}\n`),
    '--keep-alive', '2h']);
  openai = createOpenAI({
    baseURL: `${kw.url}/v1`,
    apiKey: 'sk-unused',
    fetch: async (url, init) => {
      if (typeof init?.body === 'string') sent.push({ url: String(url), body: JSON.parse(init.body) });
      return fetch(url, init);
    },
  });
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

beforeEach(async () => {
  await ctl.reset();
  sent = [];
});

async function chats() {
  return (await ctl.requests()).filter((q) => q.method === 'POST' && q.path === '/api/chat');
}

function assertPolicy(q, what) {
  assert.equal(q.body.model, MODEL, `${what}: model`);
  assert.equal(q.body.keep_alive, KEEP_ALIVE_S, `${what}: keepwarm's keep_alive`);
  assert.equal(q.body.options?.num_ctx, NUM_CTX, `${what}: the [model] section's num_ctx`);
}

test('generateText with openai.responses: the text and usage arrive; Ollama saw keep_alive, num_ctx, temperature and num_predict', async () => {
  const r = await generateText({
    model: openai.responses(MODEL),
    system: 'Be brief.',
    prompt: 'Say hello',
    temperature: 0.5,
    maxOutputTokens: 50,
    maxRetries: 0,
  });
  assert.equal(r.text, 'Hello from fake ollama.');
  assert.equal(r.finishReason, 'stop');
  assert.ok(r.usage.inputTokens > 0 && r.usage.outputTokens > 0, JSON.stringify(r.usage));
  assert.match(sent[0].url, /\/v1\/responses$/, 'the SDK used the Responses endpoint');

  const [q] = await chats();
  assertPolicy(q, 'chat');
  assert.equal(q.body.stream, false);
  assert.equal(q.body.options.temperature, 0.5);
  assert.equal(q.body.options.num_predict, 50, 'max_output_tokens -> num_predict');
  assert.deepEqual(q.body.messages.map((m) => [m.role, m.content]),
    [['system', 'Be brief.'], ['user', 'Say hello']]);
});

test('streamText with openai.responses: the deltas make the text; Ollama saw a streaming chat with keep_alive and num_ctx', async () => {
  await ctl.post('script', { content: ['Streamed', ' through', ' keepwarm.'] });
  const r = streamText({ model: openai.responses(MODEL), prompt: 'Stream something', maxRetries: 0 });
  const parts = [];
  for await (const d of r.textStream) parts.push(d);
  assert.deepEqual(parts.join(''), 'Streamed through keepwarm.');
  assert.ok(parts.length >= 2, `more than one delta: ${JSON.stringify(parts)}`);
  assert.equal(await r.finishReason, 'stop');

  const [q] = await chats();
  assertPolicy(q, 'chat');
  assert.equal(q.body.stream, true);
});

test('a tool the SDK executes: the call reaches the app, its result goes back to Ollama as a tool message, the final text arrives', async () => {
  await ctl.post('script', {
    tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }],
    after_tool: ['Sunny', ' in', ' Paris.'],
  });
  const calls = [];
  const r = await generateText({
    model: openai.responses(MODEL),
    prompt: 'Weather in Paris?',
    tools: {
      get_weather: tool({
        description: 'Current weather for a city',
        inputSchema: jsonSchema({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
        execute: async ({ city }) => { calls.push(city); return { city, sky: 'sunny' }; },
      }),
    },
    stopWhen: stepCountIs(3),
    maxRetries: 0,
  });
  assert.deepEqual(calls, ['Paris']);
  assert.equal(r.text, 'Sunny in Paris.');
  assert.equal(r.steps.length, 2);

  const c = await chats();
  assert.equal(c.length, 2);
  assertPolicy(c[0], 'step 1');
  assertPolicy(c[1], 'step 2');
  assert.equal(c[0].body.tools[0].function.name, 'get_weather');
  const last = c[1].body.messages.at(-1);
  assert.equal(last.role, 'tool');
  assert.deepEqual(JSON.parse(last.content), { city: 'Paris', sky: 'sunny' });
});
