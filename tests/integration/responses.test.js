// POST /v1/responses through keepwarm to the stand-in's /api/chat: the non-stream object, the
// named-event stream (sequence numbers, reasoning and text deltas, function calls), errors in
// the OpenAI envelope with Ollama's texts, and what Ollama received (keep_alive and the pinned
// num_ctx from the ini, no client keep_alive).
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startFake, startKeepwarm, FakeControl, iniFile, metric } from './harness.js';

let fake, kw, ctl;

before(async () => {
  fake = await startFake([]);
  ctl = new FakeControl(fake);
  const ini = iniFile([
    '[keepwarm]',
    'keep_alive = -1',
    '[model "qwen3:8b"]',
    'keep_alive = 24h',
    'num_ctx = 8192',
    '',
  ].join('\n'));
  kw = await startKeepwarm(fake.url, ['-c', ini]);
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

const post = (body, raw) => fetch(`${kw.url}/v1/responses`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: raw ?? JSON.stringify(body),
});

// The named events of an SSE body: [{event, data}], checking each event name is its data's type.
function events(text) {
  const out = [];
  for (const block of text.split('\n\n')) {
    if (!block.trim() || block.startsWith(':')) continue;
    const lines = block.split('\n');
    assert.match(lines[0], /^event: /, `block: ${block}`);
    assert.match(lines[1], /^data: /, `block: ${block}`);
    const event = lines[0].slice(7);
    const data = JSON.parse(lines[1].slice(6));
    assert.equal(data.type, event);
    out.push({ event, data });
  }
  out.forEach((e, i) => assert.equal(e.data.sequence_number, i, 'sequence numbers from 0'));
  return out;
}

const tools = [{
  type: 'function', name: 'get_weather', description: 'Weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
}];

test('non-stream: the response object; Ollama gets /api/chat with keep_alive and the pinned num_ctx', async () => {
  const res = await post({
    model: 'qwen3:8b', instructions: 'Be brief.', input: 'Say hello',
    keep_alive: 0, options: { num_ctx: 1 }, temperature: 0.5, max_output_tokens: 64,
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /application\/json/);
  const r = await res.json();
  assert.match(r.id, /^resp_\d+$/);
  assert.equal(r.object, 'response');
  assert.equal(r.status, 'completed');
  assert.equal(r.model, 'qwen3:8b');
  assert.equal(r.instructions, 'Be brief.');
  assert.equal(r.temperature, 0.5);
  assert.equal(r.max_output_tokens, 64);
  assert.deepEqual(r.output.map((o) => o.type), ['reasoning', 'message']);
  assert.equal(r.output[0].id, `rs_${r.id}`);
  assert.equal(r.output[0].summary[0].text, 'Okay, the user wants a reply.');
  assert.match(r.output[1].id, /^msg_\d+$/);
  assert.equal(r.output[1].content[0].text, 'Hello from fake ollama.');
  assert.equal(r.usage.total_tokens, r.usage.input_tokens + r.usage.output_tokens);

  const q = await ctl.lastRequest('/api/chat');
  assert.equal(q.body.keep_alive, 86400, 'the model\'s keep_alive, not the client\'s 0');
  assert.equal(q.body.options.num_ctx, 8192, 'pinned num_ctx, not the client\'s options');
  assert.equal(q.body.options.temperature, 0.5);
  assert.equal(q.body.options.num_predict, 64);
  assert.equal(q.body.stream, false);
  assert.deepEqual(q.body.messages, [
    { role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello' }]);
});

test('stream: reasoning then text as named events, ending with response.completed', async () => {
  const before = (await metric(kw, /keepwarm_fastpath_total\{path="responses_token",result="hit"\} (\d+)/)) ?? 0;
  const res = await post({ model: 'qwen3:8b', input: 'Say hello', stream: true });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /text\/event-stream/);
  const ev = events(await res.text());
  const names = ev.map((e) => e.event);
  assert.deepEqual(names.slice(0, 3), ['response.created', 'response.in_progress', 'response.output_item.added']);
  assert.equal(names.at(-1), 'response.completed');
  const thinking = ev.filter((e) => e.event === 'response.reasoning_summary_text.delta').map((e) => e.data.delta).join('');
  const text = ev.filter((e) => e.event === 'response.output_text.delta').map((e) => e.data.delta).join('');
  assert.equal(thinking, 'Okay, the user wants a reply.');
  assert.equal(text, 'Hello from fake ollama.');
  const done = ev.at(-1).data.response;
  assert.equal(done.status, 'completed');
  assert.deepEqual(done.output.map((o) => o.type), ['reasoning', 'message']);
  assert.equal(done.output[1].content[0].text, text);
  assert.equal(done.output[1].id, ev.find((e) => e.event === 'response.output_text.delta').data.item_id);
  assert.ok(done.usage.output_tokens > 0);
  const q = await ctl.lastRequest('/api/chat');
  assert.equal(q.body.stream, true);
  assert.equal(q.body.keep_alive, 86400);
  assert.equal(q.body.options.num_ctx, 8192);
  const after = await metric(kw, /keepwarm_fastpath_total\{path="responses_token",result="hit"\} (\d+)/);
  assert.ok(after >= before + 4, `token lines served by the fast path (${before} -> ${after})`);
});

test('function calls: stream and not, arguments as a JSON string, text dropped', async () => {
  await ctl.post('script', {
    content: ['ignored'],
    tool_calls: [{ id: 'call_1', function: { name: 'get_weather', arguments: { city: 'Paris' } } }],
  });
  const r = await (await post({ model: 'llama3.2:3b', input: 'Weather?', tools })).json();
  assert.deepEqual(r.output.map((o) => o.type), ['function_call']);
  assert.equal(r.output[0].id, `fc_${r.id}_0`);
  assert.equal(r.output[0].call_id, 'call_1');
  assert.equal(r.output[0].name, 'get_weather');
  assert.deepEqual(JSON.parse(r.output[0].arguments), { city: 'Paris' });
  assert.equal(r.tools[0].name, 'get_weather');
  const q = await ctl.lastRequest('/api/chat');
  assert.equal(q.body.tools[0].function.name, 'get_weather');

  const ev = events(await (await post({ model: 'llama3.2:3b', input: 'Weather?', tools, stream: true })).text());
  const names = ev.map((e) => e.event);
  assert.ok(names.includes('response.function_call_arguments.delta'));
  assert.ok(!names.includes('response.output_text.delta'), 'content after a call is dropped');
  const done = ev.at(-1).data.response;
  assert.equal(done.output[0].type, 'function_call');
  assert.deepEqual(JSON.parse(done.output[0].arguments), { city: 'Paris' });
});

test('a conversation with a function call and its output reaches Ollama as chat messages', async () => {
  await post({
    model: 'llama3.2:3b',
    input: [
      { role: 'user', content: 'Weather?' },
      { type: 'function_call', call_id: 'c1', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { type: 'function_call_output', call_id: 'c1', output: 'sunny' },
    ],
    tools,
  });
  const q = await ctl.lastRequest('/api/chat');
  assert.deepEqual(q.body.messages, [
    { role: 'user', content: 'Weather?' },
    { role: 'assistant', content: '', tool_calls: [{ id: 'c1', function: { name: 'get_weather', arguments: { city: 'Paris' } } }] },
    { role: 'tool', content: 'sunny', tool_call_id: 'c1' },
  ]);
});

test('errors: the OpenAI envelope with Ollama\'s texts; nothing reaches Ollama for a bad body', async () => {
  let res = await post({ model: 'nope:1b', input: 'x' });
  assert.equal(res.status, 404);
  assert.deepEqual(await res.json(), {
    error: { message: "model 'nope:1b' not found", type: 'not_found_error', param: null, code: null } });

  res = await post({ model: 'nope:1b', input: 'x', stream: true });
  assert.equal(res.status, 404, 'an error before the first byte is JSON, also for a stream');
  assert.match(res.headers.get('content-type'), /application\/json/);
  assert.equal((await res.json()).error.type, 'not_found_error');

  res = await post({ model: 'llama3.2:3b', input: 'x', reasoning: { effort: 'low' } });
  assert.equal(res.status, 400, 'no relax_thinking on Responses');
  assert.equal((await res.json()).error.message, '"llama3.2:3b" does not support thinking');

  await ctl.reset();
  res = await post(null, '{"model":');
  assert.equal(res.status, 400);
  let e = (await res.json()).error;
  assert.equal(e.type, 'invalid_request_error');
  res = await post({ model: 'qwen3:8b', input: [{ type: 'computer_call' }] });
  assert.equal(res.status, 400);
  e = (await res.json()).error;
  assert.equal(e.message, 'input[0]: unknown input item type: "computer_call"');
  res = await post({ model: 'qwen3:8b', input: 'x', reasoning: { effort: 'huge' } });
  assert.match((await res.json()).error.message, /^invalid reasoning value: "huge"/);
  assert.equal((await ctl.requests()).filter((q) => q.path === '/api/chat').length, 0);

  res = await fetch(`${kw.url}/v1/responses`);
  assert.equal(res.status, 405);
});

test('a client keep_alive under any Go spelling never reaches Ollama; a second model spelling is refused', async () => {
  await post(null, '{"model":"qwen3:8b","input":"x","KEEP_ALIVE":0,"Keep_Alive":"1s","options":{"num_ctx":2}}');
  const q = await ctl.lastRequest('/api/chat');
  assert.deepEqual(Object.keys(q.body).sort(), ['keep_alive', 'messages', 'model', 'options', 'stream']);
  assert.equal(q.body.keep_alive, 86400);
  assert.equal(q.body.options.num_ctx, 8192);
  // another spelling of a field keepwarm reads (the model) is refused, not read two ways
  const res = await post(null, '{"model":"qwen3:8b","MODEL":"llama3.2:3b","input":"x"}');
  assert.equal(res.status, 400);
  assert.match((await res.json()).error.message, /^invalid key "MODEL": Ollama reads it as "model"/);
});

test('a native error mid-stream, and a stream cut without its done line, end with an error event', async () => {
  await ctl.post('fail', { when: 'mid', error: 'an error was encountered while running the model: boom' });
  let ev = events(await (await post({ model: 'llama3.2:3b', input: 'x', stream: true })).text());
  let last = ev.at(-1);
  assert.equal(last.event, 'error');
  assert.equal(last.data.message, 'an error was encountered while running the model: boom');
  assert.ok(!ev.some((e) => e.event === 'response.completed'));
  assert.ok(ev.some((e) => e.event === 'response.output_text.delta'), 'the tokens before the error were sent');

  await ctl.post('fail', { when: 'close' });
  ev = events(await (await post({ model: 'llama3.2:3b', input: 'x', stream: true })).text());
  last = ev.at(-1);
  assert.equal(last.event, 'error');
  assert.ok(!ev.some((e) => e.event === 'response.completed'));
});

test('a Codex-shaped request (developer message, reasoning replay, custom and local_shell tools, include, store) streams', async () => {
  const body = JSON.parse(fs.readFileSync(new URL('../translate-responses/req-14-codex-shape/request.json', import.meta.url)));
  body.model = 'qwen3:8b';
  const res = await post(body);
  assert.equal(res.status, 200);
  const ev = events(await res.text());
  assert.equal(ev.at(-1).event, 'response.completed');
  const q = await ctl.lastRequest('/api/chat');
  assert.deepEqual(q.body.messages.map((m) => m.role), ['system', 'developer', 'user', 'assistant', 'tool']);
  assert.equal(q.body.think, 'medium');
  assert.deepEqual(q.body.tools.map((t) => t.type), ['function', 'custom', 'local_shell']);
});

test('requests are counted under route="responses"', async () => {
  const n0 = (await metric(kw, /keepwarm_requests_total\{route="responses",code="200"\} (\d+)/)) ?? 0;
  await (await post({ model: 'llama3.2:3b', input: 'x' })).json();
  const n1 = await metric(kw, /keepwarm_requests_total\{route="responses",code="200"\} (\d+)/);
  assert.equal(n1, n0 + 1);
});

test('keepwarm\'s own errors on /v1/responses (401, 413, 429, 502) are in the OpenAI envelope', async () => {
  const ini = iniFile([
    '[keepwarm]', 'max_body_size = 1KiB', 'api_keys = sk-responses-test-key',
    '[model "llama3.2:3b"]', 'max_concurrent = 1', '',
  ].join('\n'));
  await fake.stop();
  fake = await startFake(['--token-delay', '200']);
  ctl = new FakeControl(fake);
  const kw2 = await startKeepwarm(fake.url, ['-c', ini]);
  const dead = await startKeepwarm('http://127.0.0.1:9', []);
  try {
    const call = (base, body, headers = {}) => fetch(`${base}/v1/responses`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body,
    });
    const auth = { authorization: 'Bearer sk-responses-test-key' };
    const envelope = async (res, status) => {
      assert.equal(res.status, status);
      const e = (await res.json()).error;
      assert.equal(typeof e.message, 'string');
      assert.equal(e.param, null);
      assert.ok('type' in e && 'code' in e);
      return e;
    };
    await envelope(await call(kw2.url, '{"model":"llama3.2:3b","input":"x"}'), 401);
    await envelope(await call(kw2.url, JSON.stringify({ model: 'llama3.2:3b', input: 'x'.repeat(2048) }), auth), 413);
    const slow = call(kw2.url, '{"model":"llama3.2:3b","input":"x","stream":true}', auth);
    const first = await slow; // headers: the stream holds the model's one slot
    await envelope(await call(kw2.url, '{"model":"llama3.2:3b","input":"x"}', auth), 429);
    await first.text();
    await envelope(await call(dead.url, '{"model":"llama3.2:3b","input":"x"}'), 502);
  } finally {
    await kw2.stop();
    await dead.stop();
  }
});
