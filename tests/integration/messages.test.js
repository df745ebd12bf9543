// Anthropic Messages: POST /v1/messages (and ?beta=true) -> /api/chat with keepwarm's
// keep_alive and pinned options, the answer and the named-event stream as Ollama's own layer
// writes them (anthropic/anthropic.go at fb30760), tools, thinking, relax_thinking on a model
// without the capability, count_tokens answered by keepwarm, and every error on these paths
// in Anthropic's envelope: Ollama's, and keepwarm's own 400/401/404/405/413/429/502.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFake, startKeepwarm, FakeControl, sleep, metric, iniFile, stopAll } from './harness.js';

const procs = [];
after(() => stopAll(procs));

const msg = (extra = {}) => JSON.stringify({
  model: 'llama3.2:3b', max_tokens: 256, messages: [{ role: 'user', content: 'Hello, world!' }], ...extra,
});
const post = (kw, body, path = '/v1/messages', headers = {}) =>
  fetch(`${kw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

// Named SSE events: [{event, data}] in order.
function events(text) {
  const out = [];
  for (const block of text.split('\n\n')) {
    const ev = block.split('\n').find((l) => l.startsWith('event: '));
    const data = block.split('\n').find((l) => l.startsWith('data: '));
    if (ev && data) out.push({ event: ev.slice(7), data: JSON.parse(data.slice(6)) });
  }
  return out;
}

function assertEnvelope(body, type, re) {
  assert.equal(body.type, 'error', JSON.stringify(body));
  assert.equal(body.error.type, type, JSON.stringify(body));
  assert.match(body.error.message, re);
  assert.match(body.request_id, /^req_[0-9a-f]{24}$/);
}

async function start(ini = '', args = [], env = {}, fakeArgs = []) {
  const fake = await startFake(fakeArgs);
  procs.push(fake);
  const conf = iniFile(ini || '# defaults\n');
  const kw = await startKeepwarm(fake.url, ['-c', conf, ...args], env);
  procs.push(kw);
  return { fake, kw, ctl: new FakeControl(fake) };
}

test('non-stream: the message object, and Ollama gets keep_alive and the pinned num_ctx, not the client\'s', async () => {
  const { kw, ctl } = await start('[model "llama3.2:3b"]\nnum_ctx = 8192\n', ['--keep-alive', '2h']);
  const r = await post(kw, msg({ keep_alive: 0, KEEP_ALIVE: 0, temperature: 0.5, stop_sequences: ['END'] }), '/v1/messages?beta=true');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^application\/json/);
  const m = await r.json();
  assert.match(m.id, /^msg_[0-9a-f]{24}$/);
  assert.deepEqual({ ...m, id: 'x' }, {
    id: 'x', type: 'message', role: 'assistant', model: 'llama3.2:3b',
    content: [{ type: 'text', text: 'Hello from fake ollama.' }],
    stop_reason: 'end_turn', usage: { input_tokens: 2, output_tokens: 5 },
  });
  const up = await ctl.lastRequest('/api/chat');
  assert.equal(up.path, '/api/chat');
  assert.equal(up.body.keep_alive, 7200);
  assert.equal(up.body.stream, false);
  assert.deepEqual(up.body.options, { num_predict: 256, temperature: 0.5, stop: ['END'], num_ctx: 8192 });
  assert.equal(up.body.KEEP_ALIVE, undefined);
  assert.deepEqual(up.body.messages, [{ role: 'user', content: 'Hello, world!' }]);
  // ids are unique within the process
  const ids = new Set();
  for (let i = 0; i < 5; i++) ids.add((await (await post(kw, msg())).json()).id);
  assert.equal(ids.size, 5);
});

test('stream: message_start with the estimate, blocks in order, message_delta with the real counts, message_stop; token lines take the fast path', async () => {
  const { kw, ctl } = await start();
  const hits0 = (await metric(kw, /keepwarm_fastpath_total\{path="messages_token",result="hit"\} (\d+)/)) || 0;
  const r = await post(kw, msg({ stream: true }));
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'text/event-stream');
  const ev = events(await r.text());
  assert.deepEqual(ev.map((e) => e.event), ['message_start', 'content_block_start', 'content_block_delta',
    'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_delta',
    'content_block_stop', 'message_delta', 'message_stop']);
  for (const e of ev) assert.equal(e.event, e.data.type);
  const start0 = ev[0].data.message;
  assert.match(start0.id, /^msg_[0-9a-f]{24}$/);
  assert.deepEqual(start0.usage, { input_tokens: 4, output_tokens: 0 }, '("user" + "Hello, world!") / 4, as Ollama estimates');
  assert.equal(start0.model, 'llama3.2:3b');
  assert.deepEqual(ev[1].data, { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
  assert.equal(ev.slice(2, 7).map((e) => e.data.delta.text).join(''), 'Hello from fake ollama.');
  assert.deepEqual(ev[8].data, { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { input_tokens: 2, output_tokens: 5 } });
  assert.equal((await ctl.lastRequest('/api/chat')).body.stream, true);
  const hits = await metric(kw, /keepwarm_fastpath_total\{path="messages_token",result="hit"\} (\d+)/);
  assert.equal(hits - hits0, 4, 'every token line after the first one took the fast path');
  assert.ok((await metric(kw, /keepwarm_requests_total\{route="messages",code="200"\} (\d+)/)) >= 1);
});

test('tools and thinking: tool_use blocks (stream and not), tool_result mapped to a tool message first', async () => {
  const { kw, ctl } = await start();
  await ctl.post('script', { content: [], tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris', unit: 'c' } } }] });
  const tools = [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }];
  const body = msg({
    model: 'qwen3:8b', tools, thinking: { type: 'enabled', budget_tokens: 1024 },
    messages: [
      { role: 'user', content: 'Weather?' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Oslo' } }] },
      { role: 'user', content: [{ type: 'text', text: 'and now?' }, { type: 'tool_result', tool_use_id: 'call_1', content: 'cold' }] },
    ],
  });
  const m = await (await post(kw, body)).json();
  assert.equal(m.stop_reason, 'tool_use');
  assert.deepEqual(m.content.map((b) => b.type), ['thinking', 'tool_use']);
  assert.deepEqual(m.content[1].input, { city: 'Paris', unit: 'c' });
  assert.match(m.content[1].id, /^call_/);
  const up = (await ctl.lastRequest('/api/chat')).body;
  assert.equal(up.think, true);
  assert.deepEqual(up.tools[0], { type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: tools[0].input_schema } });
  assert.deepEqual(up.messages.slice(1).map((x) => x.role), ['assistant', 'tool', 'user']);
  assert.deepEqual(up.messages[2], { role: 'tool', content: 'cold', tool_call_id: 'call_1' });

  const ev = events(await (await post(kw, msg({ ...JSON.parse(body), stream: true }))).text());
  assert.deepEqual(ev.map((e) => e.event), ['message_start', 'content_block_start', 'content_block_delta',
    'content_block_delta', 'content_block_stop', 'content_block_start', 'content_block_delta', 'content_block_stop',
    'message_delta', 'message_stop']);
  assert.equal(ev[1].data.content_block.type, 'thinking');
  assert.equal(ev[5].data.content_block.type, 'tool_use');
  assert.equal(ev[5].data.index, 1);
  assert.deepEqual(JSON.parse(ev[6].data.delta.partial_json), { city: 'Paris', unit: 'c' });
  assert.equal(ev[8].data.delta.stop_reason, 'tool_use');
});

test('relax_thinking: thinking asked of a model without the capability is dropped, as Ollama\'s layer does', async () => {
  const { kw, ctl } = await start();
  for (const stream of [false, true]) {
    const r = await post(kw, msg({ stream, thinking: { type: 'enabled', budget_tokens: 2048 } }));
    assert.equal(r.status, 200, `stream ${stream}`);
    const text = await r.text();
    assert.match(text, /Hello/);
    const chats = (await ctl.requests()).filter((q) => q.path === '/api/chat').slice(-2);
    assert.equal(chats[0].body.think, true, 'first asked with think');
    assert.equal(chats[1].body.think, undefined, 'then once more without it');
    assert.equal(chats[1].body.keep_alive, chats[0].body.keep_alive);
  }
  // Responses-style effort on the same model: relaxed too; a thinking model keeps it
  await post(kw, msg({ output_config: { effort: 'low' } }));
  assert.equal((await ctl.lastRequest('/api/chat')).body.think, undefined);
  await post(kw, msg({ model: 'qwen3:8b', output_config: { effort: 'low' } }));
  assert.equal((await ctl.lastRequest('/api/chat')).body.think, 'low');
  // another 400 is not retried
  const n0 = (await ctl.requests()).length;
  await ctl.post('fail', { when: 'before', status: 400, error: 'something else' });
  const bad = await post(kw, msg({ thinking: { type: 'enabled' } }));
  assert.equal(bad.status, 400);
  assertEnvelope(await bad.json(), 'invalid_request_error', /something else/);
  assert.equal((await ctl.requests()).length - n0, 1 + 1, 'the fail control and one chat');
});

test('count_tokens: answered by keepwarm with Ollama\'s estimate, nothing sent to Ollama', async () => {
  const { kw, ctl } = await start();
  const chats = async () => (await ctl.requests()).filter((q) => q.path === '/api/chat').length;
  const n0 = await chats();
  const r = await post(kw, JSON.stringify({ model: 'llama3.2:3b', system: 'You are a helpful assistant.', messages: [{ role: 'user', content: 'Hello' }] }), '/v1/messages/count_tokens?beta=true');
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { input_tokens: 9 });
  assert.equal(await chats(), n0);
  // in the access log as every request is
  const logged = /msg="request" [^\n]*method=POST path="\/v1\/messages\/count_tokens\?beta=true" status=200 bytes=18/;
  for (let i = 0; i < 40 && !logged.test(kw.output); i++) await sleep(50);
  assert.match(kw.output, logged);
  const bad = await post(kw, '{"messages":3}', '/v1/messages/count_tokens');
  assert.equal(bad.status, 400);
  assertEnvelope(await bad.json(), 'invalid_request_error', /cannot unmarshal number/);
  const get = await fetch(`${kw.url}/v1/messages/count_tokens`);
  assert.equal(get.status, 405);
  assertEnvelope(await get.json(), 'api_error', /method not allowed/);
});

test('errors in Anthropic\'s envelope: validation, Ollama\'s 404, bad JSON, 405, 401, 413, 429, 502', async () => {
  const { kw, ctl } = await start('[model "llama3.2:3b"]\nmax_concurrent = 1\n', ['--api-key', 'sk-m-1'],
    { KEEPWARM_MAX_BODY_SIZE: '4KiB' }, ['--token-delay', '150']);
  const auth = { 'x-api-key': 'sk-m-1' };
  const none = await post(kw, msg());
  assert.equal(none.status, 401);
  assertEnvelope(await none.json(), 'authentication_error', /API key/);
  const v = await post(kw, msg({ max_tokens: 0 }), '/v1/messages', auth);
  assert.equal(v.status, 400);
  assertEnvelope(await v.json(), 'invalid_request_error', /^max_tokens is required and must be positive$/);
  const json = await post(kw, '{"model":', '/v1/messages', auth);
  assertEnvelope(await json.json(), 'invalid_request_error', /invalid JSON/);
  const nf = await post(kw, msg({ model: 'nope:1b' }), '/v1/messages', auth);
  assert.equal(nf.status, 404);
  assertEnvelope(await nf.json(), 'not_found_error', /^model 'nope:1b' not found$/);
  const nfs = await post(kw, msg({ model: 'nope:1b', stream: true }), '/v1/messages', auth);
  assert.equal(nfs.status, 404, 'a stream refused before its first byte is a JSON error too');
  assertEnvelope(await nfs.json(), 'not_found_error', /not found/);
  const get = await fetch(`${kw.url}/v1/messages?beta=true`, { headers: auth });
  assert.equal(get.status, 405);
  assertEnvelope(await get.json(), 'api_error', /method not allowed/);
  const big = await post(kw, msg({ messages: [{ role: 'user', content: 'x'.repeat(8192) }] }), '/v1/messages?beta=true', auth);
  assert.equal(big.status, 413);
  assertEnvelope(await big.json(), 'request_too_large', /./);
  const first = post(kw, msg(), '/v1/messages', auth);
  await sleep(100);
  const busy = await post(kw, msg(), '/v1/messages', auth);
  assert.equal(busy.status, 429);
  assert.equal(busy.headers.get('retry-after'), '1');
  assertEnvelope(await busy.json(), 'rate_limit_error', /too many concurrent requests/);
  assert.equal((await first).status, 200);
  // Ollama breaks off mid-stream: an Anthropic error event ends the stream
  await ctl.post('fail', { when: 'mid', error: 'runner died' });
  const ev = events(await (await post(kw, msg({ stream: true }), '/v1/messages', auth)).text());
  assert.equal(ev[0].event, 'message_start');
  assert.deepEqual(ev[ev.length - 1], { event: 'error', data: { type: 'error', error: { type: 'api_error', message: 'runner died' } } });
});

test('Ollama unreachable: 502 in the envelope', async () => {
  const kw = await startKeepwarm('http://127.0.0.1:9', [], { KEEPWARM_RETRIES: '0' });
  procs.push(kw);
  const r = await post(kw, msg());
  assert.equal(r.status, 502);
  assertEnvelope(await r.json(), 'api_error', /cannot reach Ollama/);
});
