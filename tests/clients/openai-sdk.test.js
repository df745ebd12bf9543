// The official `openai` package against keepwarm in front of the stand-in Ollama: every OpenAI
// endpoint keepwarm serves, driven the way applications drive it, with what reached the
// stand-in's native API checked through /_fake/requests.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startFake, startKeepwarm, FakeControl, sleep } from '../integration/harness.js';

// The stand-in's default catalog plus namespaced models, for ids that contain `/`.
const MODELS = [
  'llama3.2:3b=completion+tools',
  'qwen3:8b=completion+tools+thinking',
  'nomic-embed-text:latest=embedding',
  'codellama:7b=completion+insert',
  'acme/coder:7b=completion+tools',
  'hf.co/org/tiny:Q4=completion',
].join(',');

let fake, kw, ctl, client;

before(async () => {
  fake = await startFake(['--models', MODELS]);
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

const user = (content) => [{ role: 'user', content }];

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, days: { type: 'integer' } },
      required: ['city'],
    },
  },
};

// Reads native embeddings straight from the stand-in (its vectors are deterministic per text).
async function nativeEmbed(input) {
  const r = await fetch(`${fake.url}/api/embed`, {
    method: 'POST', body: JSON.stringify({ model: 'nomic-embed-text', input }),
  });
  assert.equal(r.status, 200);
  return (await r.json()).embeddings;
}

// Same vector within float32 precision.
function assertVectorClose(got, want, what) {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const tol = Math.abs(want[i]) * 2 ** -23 + 1e-12;
    assert.ok(Math.abs(got[i] - want[i]) <= tol, `${what}[${i}]: ${got[i]} vs ${want[i]}`);
  }
}

async function waitFor(pred, ms, what) {
  const start = Date.now();
  let last;
  while (Date.now() - start < ms) {
    last = await pred();
    if (last) return Date.now() - start;
    await sleep(10);
  }
  assert.fail(`${what} did not happen within ${ms} ms`);
}

// ---- chat ----

test('chat, non-stream: typed response, usage, keep_alive and default options upstream', async () => {
  const res = await client.chat.completions.create({
    model: 'llama3.2:3b',
    messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello there' }],
    temperature: 0.2,
    seed: 42,
    stop: 'END',
  });
  assert.equal(res.object, 'chat.completion');
  assert.match(res.id, /^chatcmpl-/);
  assert.equal(res.model, 'llama3.2:3b');
  assert.equal(typeof res.created, 'number');
  assert.equal(res.choices.length, 1);
  assert.equal(res.choices[0].index, 0);
  assert.equal(res.choices[0].message.role, 'assistant');
  assert.equal(res.choices[0].message.content, 'Hello from fake ollama.');
  assert.equal(res.choices[0].finish_reason, 'stop');
  assert.equal(res.usage.completion_tokens, 5);
  assert.ok(res.usage.prompt_tokens > 0);
  assert.equal(res.usage.total_tokens, res.usage.prompt_tokens + res.usage.completion_tokens);

  const up = await ctl.lastRequest('/api/chat');
  assert.equal(up.method, 'POST');
  assert.equal(up.body.model, 'llama3.2:3b');
  assert.equal(up.body.stream, false);
  assert.equal(up.body.keep_alive, 3600, '--keep-alive 1h injected (as seconds)');
  assert.deepEqual(up.body.options, { temperature: 0.2, top_p: 1, seed: 42, stop: ['END'] });
  assert.deepEqual(up.body.messages, [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Say hello there' },
  ]);
  assert.equal(up.headers.authorization, undefined, 'the client key is not forwarded');
});

test('chat, stream with include_usage: text, finish chunk, usage chunk whose totals add up', async () => {
  const stream = await client.chat.completions.create({
    model: 'llama3.2:3b',
    messages: user('Say hello there'),
    stream: true,
    stream_options: { include_usage: true },
  });
  const chunks = [];
  for await (const c of stream) chunks.push(c);

  assert.ok(chunks.length >= 3);
  for (const c of chunks) {
    assert.equal(c.object, 'chat.completion.chunk');
    assert.equal(c.id, chunks[0].id, 'one id per stream');
  }
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  const text = chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? '')).join('');
  assert.equal(text, 'Hello from fake ollama.');
  const finishes = chunks.flatMap((c) => c.choices.filter((ch) => ch.finish_reason).map((ch) => ch.finish_reason));
  assert.deepEqual(finishes, ['stop']);

  const usageChunks = chunks.filter((c) => c.usage);
  assert.equal(usageChunks.length, 1, 'exactly one chunk carries usage');
  const last = chunks[chunks.length - 1];
  assert.equal(last, usageChunks[0], 'the usage chunk is the last one');
  assert.deepEqual(last.choices, []);
  const contentChunks = chunks.filter((c) => c.choices[0]?.delta?.content).length;
  assert.equal(last.usage.completion_tokens, contentChunks);
  assert.ok(last.usage.prompt_tokens > 0);
  assert.equal(last.usage.total_tokens, last.usage.prompt_tokens + last.usage.completion_tokens);

  // The same request without streaming reports the same usage.
  const once = await client.chat.completions.create({ model: 'llama3.2:3b', messages: user('Say hello there') });
  assert.deepEqual(
    [once.usage.prompt_tokens, once.usage.completion_tokens, once.usage.total_tokens],
    [last.usage.prompt_tokens, last.usage.completion_tokens, last.usage.total_tokens],
  );

  const up = await ctl.lastRequest('/api/chat');
  assert.equal(up.body.keep_alive, 3600);
  assert.equal(up.body.stream_options, undefined, 'stream_options is not sent upstream');
});

test('tools round trip: tool call with string arguments, then the tool result with tool_name resolved', async () => {
  await ctl.post('script', {
    tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris', days: 2 } } }],
  });
  const messages = [{ role: 'user', content: 'Weather in Paris?' }];
  const first = await client.chat.completions.create({ model: 'llama3.2:3b', messages, tools: [weatherTool] });
  const choice = first.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  const calls = choice.message.tool_calls;
  assert.equal(calls.length, 1);
  assert.equal(calls[0].type, 'function');
  assert.match(calls[0].id, /^call_[a-z0-9]{8}$/);
  assert.equal(calls[0].function.name, 'get_weather');
  assert.equal(typeof calls[0].function.arguments, 'string', 'arguments are a JSON string');
  assert.deepEqual(JSON.parse(calls[0].function.arguments), { city: 'Paris', days: 2 });
  assert.equal(choice.message.content, '');

  const upTools = await ctl.lastRequest('/api/chat');
  assert.deepEqual(upTools.body.tools, [weatherTool], 'tools passed through as given');

  // Second turn, as applications write it: the assistant message echoed back, then the result.
  await ctl.post('script', { content: ['It is sunny', ' in Paris.'] });
  messages.push(choice.message);
  messages.push({ role: 'tool', tool_call_id: calls[0].id, content: '{"temp_c":21,"sky":"clear"}' });
  const second = await client.chat.completions.create({ model: 'llama3.2:3b', messages, tools: [weatherTool] });
  assert.equal(second.choices[0].message.content, 'It is sunny in Paris.');
  assert.equal(second.choices[0].finish_reason, 'stop');
  assert.equal(second.choices[0].message.tool_calls, undefined);

  const up = await ctl.lastRequest('/api/chat');
  assert.equal(up.body.messages.length, 3);
  assert.deepEqual(up.body.messages[1], {
    role: 'assistant',
    content: '',
    tool_calls: [{ id: calls[0].id, function: { index: 0, name: 'get_weather', arguments: { city: 'Paris', days: 2 } } }],
  }, 'arguments went upstream as an object');
  assert.deepEqual(up.body.messages[2], {
    role: 'tool',
    content: '{"temp_c":21,"sky":"clear"}',
    tool_call_id: calls[0].id,
    tool_name: 'get_weather',
  }, 'tool_name resolved from the tool_call_id');
});

test('tools, stream: the SDK stream helper assembles the tool call', async () => {
  await ctl.post('script', {
    tool_calls: [{ id: 'call_fixed01', function: { name: 'get_weather', arguments: { city: 'Oslo' } } }],
  });
  const runner = client.chat.completions.stream({
    model: 'llama3.2:3b', messages: user('Weather in Oslo?'), tools: [weatherTool],
  });
  const final = await runner.finalChatCompletion();
  assert.equal(final.choices[0].finish_reason, 'tool_calls');
  const [call] = final.choices[0].message.tool_calls;
  assert.equal(call.id, 'call_fixed01');
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Oslo' });
  assert.equal((await ctl.lastRequest('/api/chat')).body.stream, true);
});

test('tool_choice "none" keeps tools away from the model', async () => {
  await ctl.post('script', { tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Rome' } } }] });
  const res = await client.chat.completions.create({
    model: 'llama3.2:3b', messages: user('Weather?'), tools: [weatherTool], tool_choice: 'none',
  });
  assert.equal(res.choices[0].finish_reason, 'stop');
  assert.equal(res.choices[0].message.tool_calls, undefined);
  assert.equal((await ctl.lastRequest('/api/chat')).body.tools, undefined);
});

test('json_schema response_format: native format is the schema; the SDK parses the answer', async () => {
  const schema = {
    type: 'object',
    properties: { city: { type: 'string' }, temp: { type: 'number' } },
    required: ['city', 'temp'],
    additionalProperties: false,
  };
  await ctl.post('script', { content: ['{"city":', ' "Paris",', ' "temp": 21.5}'] });
  const res = await client.chat.completions.parse({
    model: 'llama3.2:3b',
    messages: user('Weather as JSON'),
    response_format: { type: 'json_schema', json_schema: { name: 'weather', schema, strict: true } },
  });
  assert.deepEqual(res.choices[0].message.parsed, { city: 'Paris', temp: 21.5 });
  const up = await ctl.lastRequest('/api/chat');
  assert.deepEqual(up.body.format, schema, 'format is the schema object (name and strict dropped)');

  await client.chat.completions.create({
    model: 'llama3.2:3b', messages: user('JSON please'), response_format: { type: 'json_object' },
  });
  assert.equal((await ctl.lastRequest('/api/chat')).body.format, 'json');
});

test('reasoning: reasoning_effort becomes think, and the answer carries reasoning', async () => {
  const res = await client.chat.completions.create({
    model: 'qwen3:8b', messages: user('Think first'), reasoning_effort: 'high',
  });
  assert.equal(res.choices[0].message.content, 'Hello from fake ollama.');
  assert.equal(res.choices[0].message.reasoning, 'Okay, the user wants a reply.');
  assert.equal((await ctl.lastRequest('/api/chat')).body.think, 'high');
});

// ---- embeddings ----

test('embeddings, SDK default (base64 on the wire, decoded by the SDK) match the native vectors', async () => {
  const input = ['the quick brown fox', 'jumps over'];
  const res = await client.embeddings.create({ model: 'nomic-embed-text', input });
  const up = await ctl.lastRequest('/api/embed');
  assert.deepEqual(up.body.input, input);
  assert.equal(up.body.encoding_format, undefined, 'encoding_format is not sent upstream');
  assert.equal(up.body.keep_alive, 3600);

  assert.equal(res.object, 'list');
  assert.equal(res.model, 'nomic-embed-text');
  assert.equal(res.data.length, 2);
  const native = await nativeEmbed(input);
  res.data.forEach((d, i) => {
    assert.equal(d.object, 'embedding');
    assert.equal(d.index, i);
    assert.ok(Array.isArray(d.embedding) && d.embedding.every((x) => typeof x === 'number'));
    assertVectorClose(d.embedding, native[i], `base64 vector ${i}`);
  });
  assert.ok(res.usage.prompt_tokens > 0);
  assert.equal(res.usage.total_tokens, res.usage.prompt_tokens);
});

test('embeddings, explicit float and base64, and dimensions', async () => {
  const input = 'a single string';
  const [native] = await nativeEmbed(input);

  const f = await client.embeddings.create({ model: 'nomic-embed-text', input, encoding_format: 'float' });
  assert.equal(f.data.length, 1);
  assertVectorClose(f.data[0].embedding, native, 'float vector');

  const b = await client.embeddings.create({ model: 'nomic-embed-text', input, encoding_format: 'base64' });
  assert.equal(typeof b.data[0].embedding, 'string', 'explicit base64 is returned as given');
  const buf = Buffer.from(b.data[0].embedding, 'base64');
  assert.equal(buf.length, native.length * 4, 'little-endian float32 bytes');
  const decoded = Array.from({ length: native.length }, (_, i) => buf.readFloatLE(i * 4));
  assertVectorClose(decoded, native, 'base64 vector');

  const d = await client.embeddings.create({ model: 'nomic-embed-text', input, dimensions: 4 });
  assert.equal(d.data[0].embedding.length, 4);
  assert.equal((await ctl.lastRequest('/api/embed')).body.dimensions, 4);
});

// ---- completions ----

test('completions, non-stream', async () => {
  const res = await client.completions.create({
    model: 'llama3.2:3b', prompt: 'Once upon a time', max_tokens: 50, stop: ['\n\n'],
  });
  assert.equal(res.object, 'text_completion');
  assert.match(res.id, /^cmpl-/);
  assert.equal(res.model, 'llama3.2:3b');
  assert.equal(res.choices.length, 1);
  assert.equal(res.choices[0].text, 'Hello from fake ollama.');
  assert.equal(res.choices[0].finish_reason, 'stop');
  assert.equal(res.usage.completion_tokens, 5);
  assert.equal(res.usage.total_tokens, res.usage.prompt_tokens + res.usage.completion_tokens);
  const up = await ctl.lastRequest('/api/generate');
  assert.equal(up.body.prompt, 'Once upon a time');
  assert.equal(up.body.stream, false);
  assert.equal(up.body.keep_alive, 3600);
  assert.equal(up.body.options.num_predict, 50);
  assert.deepEqual(up.body.options.stop, ['\n\n']);
});

test('completions, stream with usage, and max_tokens cutting it to finish_reason "length"', async () => {
  const stream = await client.completions.create({
    model: 'llama3.2:3b', prompt: 'Once upon a time', stream: true, stream_options: { include_usage: true },
  });
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  assert.ok(chunks.every((c) => c.object === 'text_completion'));
  assert.equal(chunks.map((c) => c.choices[0]?.text ?? '').join(''), 'Hello from fake ollama.');
  const last = chunks[chunks.length - 1];
  assert.deepEqual(last.choices, []);
  assert.equal(last.usage.completion_tokens, 5);
  assert.equal(last.usage.total_tokens, last.usage.prompt_tokens + last.usage.completion_tokens);
  assert.equal(chunks[chunks.length - 2].choices[0].finish_reason, 'stop');
  assert.equal((await ctl.lastRequest('/api/generate')).body.stream, true);

  const cut = await client.completions.create({ model: 'llama3.2:3b', prompt: 'Once', max_tokens: 2, stream: true });
  const parts = [];
  for await (const c of cut) parts.push(c);
  assert.equal(parts.map((c) => c.choices[0]?.text ?? '').join(''), 'Hello from');
  assert.equal(parts[parts.length - 1].choices[0].finish_reason, 'length');
});

// ---- models ----

test('models: list with owned_by from the namespace', async () => {
  const ids = [];
  const owners = {};
  for await (const m of client.models.list()) {
    ids.push(m.id);
    owners[m.id] = m.owned_by;
    assert.equal(m.object, 'model');
    assert.ok(Number.isInteger(m.created) && m.created > 0);
  }
  assert.deepEqual(ids, ['llama3.2:3b', 'qwen3:8b', 'nomic-embed-text:latest', 'codellama:7b', 'acme/coder:7b', 'hf.co/org/tiny:Q4']);
  assert.equal(owners['llama3.2:3b'], 'library');
  assert.equal(owners['acme/coder:7b'], 'acme');
  assert.equal(owners['hf.co/org/tiny:Q4'], 'org');
  assert.ok(await ctl.lastRequest('/api/tags'));
});

test('models: retrieve, ids with "/" included (the SDK percent-encodes them)', async () => {
  const a = await client.models.retrieve('acme/coder:7b');
  assert.deepEqual({ id: a.id, object: a.object, owned_by: a.owned_by }, { id: 'acme/coder:7b', object: 'model', owned_by: 'acme' });
  assert.equal((await ctl.lastRequest('/api/show')).body.model, 'acme/coder:7b');

  const l = await client.models.retrieve('library/llama3.2:3b');
  assert.equal(l.id, 'library/llama3.2:3b', 'the id is echoed verbatim');
  assert.equal(l.owned_by, 'library');
  assert.ok(l.created > 0);

  const h = await client.models.retrieve('hf.co/org/tiny:Q4');
  assert.equal(h.owned_by, 'org');

  const plain = await client.models.retrieve('llama3.2:3b');
  assert.equal(plain.created, l.created, 'same model, same created');

  await assert.rejects(client.models.retrieve('nobody/missing:1b'), (e) => {
    assert.ok(e instanceof OpenAI.NotFoundError, `NotFoundError, got ${e?.constructor?.name}`);
    assert.equal(e.status, 404);
    assert.equal(e.type, 'not_found_error');
    assert.match(e.message, /model 'nobody\/missing:1b' not found/);
    return true;
  });
});

// ---- cancellation ----

test('an aborted stream (AbortController) cancels the generation upstream within a fraction of a second', async () => {
  await ctl.post('config', { token_delay_ms: 40 });
  await ctl.post('script', { content: Array.from({ length: 200 }, (_, i) => ` w${i}`) });
  const ac = new AbortController();
  const stream = await client.chat.completions.create(
    { model: 'llama3.2:3b', messages: user('Talk for a long time'), stream: true },
    { signal: ac.signal },
  );
  let received = 0;
  // The SDK ends the iteration quietly when its request is aborted (no exception).
  for await (const c of stream) {
    if (c.choices[0]?.delta?.content) received++;
    if (received === 2 && !ac.signal.aborted) {
      assert.equal((await ctl.stats()).in_flight, 1, 'generating while we read');
      ac.abort();
    }
  }
  assert.ok(stream.controller.signal.aborted, 'the SDK request was aborted');
  assert.ok(received >= 2 && received < 20, `stopped reading early (${received} chunks)`);

  const took = await waitFor(async () => {
    const s = await ctl.stats();
    return s.cancelled === 1 && s.in_flight === 0;
  }, 500, 'the stand-in seeing the generation cancelled');
  const s = await ctl.stats();
  assert.equal(s.completed, 0, 'the generation did not run to the end');
  assert.ok(took < 500, `cancelled after ${took} ms`);

  // keepwarm keeps serving.
  await ctl.post('config', { token_delay_ms: 0 });
  await ctl.post('script', { content: ['ok'] });
  const res = await client.chat.completions.create({ model: 'llama3.2:3b', messages: user('again') });
  assert.equal(res.choices[0].message.content, 'ok');
});

// ---- errors as typed SDK errors ----

test('errors: bad requests surface as BadRequestError with the OpenAI envelope', async () => {
  const cases = [
    [{ model: 'llama3.2:3b', messages: user('x'), n: 2 }, /n > 1 is not supported/],
    [{ model: 'llama3.2:3b', messages: [] }, /\[\] is too short - 'messages'/],
    [{ model: 'llama3.2:3b', messages: user('x'), reasoning_effort: 'extreme' }, /invalid reasoning value: "extreme"/],
    [{
      model: 'llama3.2:3b',
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }],
    }, /image URLs are not currently supported, please use base64 encoded data instead/],
  ];
  for (const [body, re] of cases) {
    await assert.rejects(client.chat.completions.create(body), (e) => {
      assert.ok(e instanceof OpenAI.BadRequestError, `BadRequestError for ${JSON.stringify(body)}, got ${e?.constructor?.name}`);
      assert.equal(e.status, 400);
      assert.equal(e.type, 'invalid_request_error');
      assert.match(e.message, re);
      return true;
    });
  }
  await assert.rejects(
    client.embeddings.create({ model: 'nomic-embed-text', input: [] }),
    (e) => e instanceof OpenAI.BadRequestError && /invalid input/.test(e.message),
  );
  await assert.rejects(
    client.completions.create({ model: 'llama3.2:3b', prompt: ['a', 'b'] }),
    (e) => e instanceof OpenAI.BadRequestError && /invalid type for 'prompt': expected string, got array/.test(e.message),
  );
  const chats = (await ctl.requests()).filter((q) => q.path === '/api/chat');
  assert.equal(chats.length, 0, 'refused requests never reach Ollama');
});

// Regression: an upstream error answer once made relay.c read past its buffer (ASan).
test('errors: unknown model surfaces as NotFoundError on every endpoint', async () => {
  const check = (e) => {
    assert.ok(e instanceof OpenAI.NotFoundError, `NotFoundError, got ${e?.constructor?.name}: ${e?.message}`);
    assert.equal(e.status, 404);
    assert.equal(e.type, 'not_found_error');
    assert.match(e.message, /model 'no-such-model:1b' not found/);
    return true;
  };
  const model = 'no-such-model:1b';
  await assert.rejects(client.chat.completions.create({ model, messages: user('x') }), check);
  await assert.rejects(client.chat.completions.create({ model, messages: user('x'), stream: true }), check);
  await assert.rejects(client.completions.create({ model, prompt: 'x' }), check);
  await assert.rejects(client.embeddings.create({ model, input: 'x' }), check);
  assert.equal((await fetch(`${kw.url}/healthz`)).status, 200, 'keepwarm is still serving');
});

test('errors: a mid-stream failure surfaces as APIError after the chunks before it', async () => {
  await ctl.post('fail', { when: 'mid', error: 'an error was encountered while running the model: out of memory' });
  const stream = await client.chat.completions.create({ model: 'llama3.2:3b', messages: user('x'), stream: true });
  const texts = [];
  await assert.rejects((async () => {
    for await (const c of stream) texts.push(c.choices[0]?.delta?.content ?? '');
  })(), (e) => {
    assert.ok(e instanceof OpenAI.APIError, `APIError, got ${e?.constructor?.name}`);
    assert.match(e.message, /an error was encountered while running the model: out of memory/);
    assert.equal(e.type, 'api_error');
    return true;
  });
  assert.equal(texts.join(''), 'Hello from', 'the chunks before the error arrived');
  assert.equal((await ctl.stats()).failed, 1);
});

test('errors: an upstream 500 before the first byte surfaces as InternalServerError (after keepwarm\'s one retry)', async () => {
  // keepwarm retries a runner failure once before any byte reached the client (retries = 1),
  // so two injected failures are needed for the error to reach the client.
  await ctl.post('fail', { when: 'before', status: 500, error: 'llama runner process has terminated: exit status 2', count: 2 });
  await assert.rejects(
    client.chat.completions.create({ model: 'llama3.2:3b', messages: user('x'), stream: true }),
    (e) => e instanceof OpenAI.InternalServerError && e.status === 500 && /llama runner process has terminated/.test(e.message),
  );
  assert.equal((await ctl.requests()).filter((q) => q.path === '/api/chat').length, 2, 'sent, then retried once');

  // One failure only: the retry hides it from the client.
  await ctl.post('fail', { when: 'before', status: 500, error: 'llama runner process has terminated: exit status 2', count: 1 });
  const res = await client.chat.completions.create({ model: 'llama3.2:3b', messages: user('x') });
  assert.equal(res.choices[0].message.content, 'Hello from fake ollama.');
});

test('errors: context-length failures carry code "context_length_exceeded", before and mid-stream', async () => {
  await ctl.post('fail', { when: 'before', status: 400, error: 'the input length exceeds the context length' });
  await assert.rejects(client.chat.completions.create({ model: 'llama3.2:3b', messages: user('x') }), (e) => {
    assert.ok(e instanceof OpenAI.BadRequestError, `BadRequestError, got ${e?.constructor?.name}`);
    assert.equal(e.code, 'context_length_exceeded');
    assert.match(e.message, /the input length exceeds the context length/);
    return true;
  });
  await ctl.post('fail', { when: 'mid', error: 'the input length exceeds the context length' });
  const stream = await client.chat.completions.create({ model: 'llama3.2:3b', messages: user('x'), stream: true });
  await assert.rejects((async () => { for await (const _ of stream) { /* drain */ } })(), (e) => {
    assert.ok(e instanceof OpenAI.APIError);
    assert.equal(e.code, 'context_length_exceeded');
    return true;
  });
});
