// LangChain's ChatOpenAI (@langchain/openai) against keepwarm: the fields it sends
// (max_completion_tokens for reasoning-model names, max_tokens otherwise, n, parallel_tool_calls,
// stream_options) are recorded on the way out and checked on the way into the stand-in.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { ChatOpenAI } from '@langchain/openai';
import { HumanMessage, SystemMessage, ToolMessage } from '@langchain/core/messages';
import { startFake, startKeepwarm, FakeControl } from '../integration/harness.js';

// gpt-5-mini: a local model under a name LangChain treats as a reasoning model, so it sends
// max_completion_tokens (and developer instead of system) the way it does for OpenAI's.
const MODELS = 'llama3.2:3b=completion+tools,gpt-5-mini:latest=completion+tools';

let fake, kw, ctl;
let sent = []; // bodies LangChain sent to keepwarm

before(async () => {
  fake = await startFake(['--models', MODELS]);
  ctl = new FakeControl(fake);
  kw = await startKeepwarm(fake.url, ['--keep-alive', '2h']);
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

const recordingFetch = async (url, init) => {
  if (init?.body && typeof init.body === 'string') sent.push(JSON.parse(init.body));
  return fetch(url, init);
};

function chat(fields) {
  return new ChatOpenAI({
    apiKey: 'sk-unused',
    maxRetries: 0,
    configuration: { baseURL: `${kw.url}/v1`, fetch: recordingFetch },
    ...fields,
  });
}

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

const lastChat = () => ctl.lastRequest('/api/chat');

test('invoke: maxTokens sent as max_completion_tokens becomes options.num_predict; n=1 accepted', async () => {
  const model = chat({ model: 'gpt-5-mini', maxTokens: 7, n: 1 });
  const res = await model.invoke([new SystemMessage('Be brief.'), new HumanMessage('Say hello')]);
  assert.equal(res.content, 'Hello from fake ollama.');
  assert.equal(res.response_metadata.finish_reason, 'stop');
  assert.equal(res.usage_metadata.output_tokens, 5);
  assert.equal(res.usage_metadata.total_tokens, res.usage_metadata.input_tokens + res.usage_metadata.output_tokens);

  assert.equal(sent.length, 1);
  assert.equal(sent[0].max_completion_tokens, 7, 'LangChain sent max_completion_tokens');
  assert.equal(sent[0].max_tokens, undefined);
  assert.equal(sent[0].n, 1);

  const up = await lastChat();
  assert.equal(up.body.options.num_predict, 7, 'max_completion_tokens -> options.num_predict');
  assert.equal(up.body.keep_alive, 7200);
  assert.equal(up.body.n, undefined);
  // LangChain turns system into developer for reasoning-model names; keepwarm passes it on as
  // Ollama's /v1 does (docs/compatibility.md: developer is not mapped to system).
  assert.equal(sent[0].messages[0].role, 'developer');
  assert.deepEqual(up.body.messages, [
    { role: 'developer', content: 'Be brief.' },
    { role: 'user', content: 'Say hello' },
  ]);
});

test('invoke: max_tokens (non-reasoning model name) also becomes num_predict, and cuts the answer', async () => {
  const model = chat({ model: 'llama3.2:3b', maxTokens: 2, temperature: 0 });
  const res = await model.invoke('Say hello');
  assert.equal(sent[0].max_tokens, 2);
  assert.equal(res.content, 'Hello from');
  assert.equal(res.response_metadata.finish_reason, 'length');
  const up = await lastChat();
  assert.equal(up.body.options.num_predict, 2);
  assert.equal(up.body.options.temperature, 0);
});

test('stream: chunks concatenate to the answer, usage arrives (stream_options.include_usage)', async () => {
  const model = chat({ model: 'gpt-5-mini', maxTokens: 50, n: 1 });
  let full;
  let count = 0;
  for await (const chunk of await model.stream('Say hello')) {
    full = full ? full.concat(chunk) : chunk;
    count++;
  }
  assert.ok(count >= 5, `streamed in pieces (${count} chunks)`);
  assert.equal(full.content, 'Hello from fake ollama.');
  assert.equal(sent[0].stream, true);
  assert.deepEqual(sent[0].stream_options, { include_usage: true });
  assert.equal(full.usage_metadata.output_tokens, 5);
  assert.ok(full.usage_metadata.input_tokens > 0);
  assert.equal(full.usage_metadata.total_tokens, full.usage_metadata.input_tokens + full.usage_metadata.output_tokens);

  const up = await lastChat();
  assert.equal(up.body.stream, true);
  assert.equal(up.body.options.num_predict, 50);
  assert.equal(up.body.keep_alive, 7200);
});

test('bindTools with parallel_tool_calls: the scripted tool call comes back, then the tool result goes up', async () => {
  await ctl.post('script', { tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }] });
  const model = chat({ model: 'llama3.2:3b', n: 1 }).bindTools([weatherTool], { parallel_tool_calls: false });
  const question = new HumanMessage('Weather in Paris?');
  const ai = await model.invoke([question]);
  assert.equal(sent[0].parallel_tool_calls, false, 'LangChain sent parallel_tool_calls');
  assert.equal(sent[0].n, 1);
  assert.equal(sent[0].tools[0].function.name, 'get_weather');
  assert.equal(ai.tool_calls.length, 1);
  assert.equal(ai.tool_calls[0].name, 'get_weather');
  assert.deepEqual(ai.tool_calls[0].args, { city: 'Paris' });
  assert.match(ai.tool_calls[0].id, /^call_/);
  assert.equal(ai.response_metadata.finish_reason, 'tool_calls');

  let up = await lastChat();
  assert.equal(up.body.tools.length, 1);
  assert.equal(up.body.tools[0].function.name, 'get_weather');
  assert.equal(up.body.parallel_tool_calls, undefined, 'ignored: Ollama has no switch');

  await ctl.post('script', { content: ['Sunny', ' in Paris.'] });
  const answer = await model.invoke([
    question,
    ai,
    new ToolMessage({ tool_call_id: ai.tool_calls[0].id, content: '{"sky":"clear"}' }),
  ]);
  assert.equal(answer.content, 'Sunny in Paris.');
  up = await lastChat();
  assert.deepEqual(up.body.messages[1].tool_calls, [
    { id: ai.tool_calls[0].id, function: { index: 0, name: 'get_weather', arguments: { city: 'Paris' } } },
  ]);
  assert.equal(up.body.messages[2].role, 'tool');
  assert.equal(up.body.messages[2].tool_call_id, ai.tool_calls[0].id);
  assert.equal(up.body.messages[2].tool_name, 'get_weather', 'tool_name resolved from the tool_call_id');
});

test('bindTools, streamed: tool call chunks assemble into a tool call', async () => {
  await ctl.post('script', { tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Lima' } } }] });
  const model = chat({ model: 'gpt-5-mini', n: 1, maxTokens: 20 }).bindTools([weatherTool], { parallel_tool_calls: true });
  let full;
  for await (const chunk of await model.stream('Weather in Lima?')) full = full ? full.concat(chunk) : chunk;
  assert.equal(full.tool_calls.length, 1);
  assert.equal(full.tool_calls[0].name, 'get_weather');
  assert.deepEqual(full.tool_calls[0].args, { city: 'Lima' });
  assert.equal(sent[0].parallel_tool_calls, true);
  const up = await lastChat();
  assert.equal(up.body.stream, true);
  assert.equal(up.body.options.num_predict, 20);
});

test('n > 1 is refused with a clear 400, never silently one generation', async () => {
  const model = chat({ model: 'llama3.2:3b', n: 2 });
  await assert.rejects(model.invoke('Say hello'), (e) => {
    assert.equal(e.status, 400);
    assert.match(e.message, /n > 1 is not supported: Ollama returns one choice/);
    return true;
  });
  assert.equal(sent[0].n, 2);
  assert.equal((await ctl.requests()).filter((q) => q.path === '/api/chat').length, 0);
});

test('an unknown model surfaces as LangChain\'s MODEL_NOT_FOUND error', async () => {
  const model = chat({ model: 'nope:1b' });
  await assert.rejects(model.invoke('x'), (e) => {
    assert.equal(e.status, 404);
    assert.equal(e.lc_error_code, 'MODEL_NOT_FOUND');
    assert.match(e.message, /model 'nope:1b' not found/);
    return true;
  });
  assert.equal((await fetch(`${kw.url}/healthz`)).status, 200, 'keepwarm is still serving');
});

test('a context-length failure reaches LangChain as a 400 with code "context_length_exceeded"', async () => {
  await ctl.post('fail', { when: 'before', status: 400, error: 'the input length exceeds the context length' });
  const model = chat({ model: 'llama3.2:3b' });
  await assert.rejects(model.invoke('a very long prompt'), (e) => {
    assert.equal(e.status, 400);
    assert.equal(e.code, 'context_length_exceeded');
    assert.match(e.message, /the input length exceeds the context length/);
    // Note: LangChain does not turn this into its ContextOverflowError: @langchain/openai 1.5.8
    // recognises an overflow only by OpenAI's wording ("maximum context length", ...) or the
    // code inside String(e), and Ollama's text (which keepwarm keeps) matches neither.
    return true;
  });
});
