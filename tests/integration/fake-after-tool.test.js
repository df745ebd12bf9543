// The stand-in's script key after_tool (tests/fake_ollama/README.md): a chat whose last message
// is a tool result gets the after_tool content and no tool calls; any other chat gets the
// script's tool calls. The agent tests (tests/agents/) rely on it to end an agent's loop.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFake, FakeControl } from './harness.js';

let fake, ctl;

before(async () => {
  fake = await startFake();
  ctl = new FakeControl(fake);
});

after(async () => { await fake?.stop(); });

const tools = [{ type: 'function', function: { name: 'run', parameters: { type: 'object', properties: {} } } }];

async function chat(messages) {
  const r = await fetch(`${fake.url}/api/chat`, {
    method: 'POST',
    body: JSON.stringify({ model: 'llama3.2:3b', messages, tools, stream: false }),
  });
  assert.equal(r.status, 200);
  return (await r.json()).message;
}

test('after_tool answers a chat that ends with a tool result; other chats get the tool calls', async () => {
  await ctl.post('script', {
    tool_calls: [{ function: { name: 'run', arguments: { cmd: 'ls' } } }],
    after_tool: ['All', ' done.'],
  });
  const first = await chat([{ role: 'user', content: 'go' }]);
  assert.equal(first.tool_calls.length, 1);
  assert.equal(first.tool_calls[0].function.name, 'run');
  assert.equal(first.content, '');
  const last = await chat([
    { role: 'user', content: 'go' },
    { role: 'assistant', content: '', tool_calls: first.tool_calls },
    { role: 'tool', content: 'a b c', tool_call_id: first.tool_calls[0].id },
  ]);
  assert.equal(last.content, 'All done.');
  assert.equal(last.tool_calls, undefined);
  const again = await chat([{ role: 'user', content: 'again' }]);
  assert.equal(again.tool_calls.length, 1, 'a new user turn gets the tool calls again');
  await ctl.reset();
});

test('after_tool must be a string or a list of strings', async () => {
  const r = await fetch(`${fake.url}/_fake/script`, { method: 'POST', body: JSON.stringify({ after_tool: [1] }) });
  assert.equal(r.status, 400);
  assert.match((await r.json()).error, /after_tool\[0\] must be a string/);
});
