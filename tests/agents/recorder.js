// A tiny stand-in server that records what an agent CLI sends (method, path, headers, body;
// zstd bodies decoded with the zstd tool for reading) and answers just enough for the CLI to
// finish a turn: Ollama's GET /api/version and /api/tags, OpenAI's GET /v1/models, a streamed
// POST /v1/responses and a streamed POST /v1/messages with a fixed text. Anything else is 404.
// Not a test: run it by hand to see what a new CLI version sends (docs/compatibility.md,
// "Agents"): `node tests/agents/recorder.js PORT LOGFILE [VERSION]`.
import http from 'node:http';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';

const port = Number(process.argv[2] || 0);
const logfile = process.argv[3] || '/dev/stdout';
const version = process.argv[4] || '0.33.0';
const MODEL = process.env.RECORDER_MODEL || 'qwen3:8b';
// RECORDER_TOOL_CMD=cmd: the first turn asks for a shell tool call (Codex's exec_command,
// Claude Code's Bash) running cmd; the turn after a tool result answers with text.
const TOOL_CMD = process.env.RECORDER_TOOL_CMD || '';
let n = 0;

function decode(headers, buf) {
  if (headers['content-encoding'] === 'zstd') {
    const r = spawnSync('zstd', ['-d', '-c'], { input: buf });
    return r.status === 0 ? r.stdout.toString() : `<zstd decode failed: ${r.stderr}>`;
  }
  return buf.toString();
}

function sse(res, events) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const [name, data] of events) {
    res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  }
  res.end();
}

function responses(res, body) {
  const id = `resp_${++n}`;
  const input = Array.isArray(body.input) ? body.input : [];
  const last = input[input.length - 1] || {};
  if (TOOL_CMD && last.type !== 'function_call_output') {
    const call = { id: `fc_${n}`, type: 'function_call', status: 'completed', call_id: `call_${n}`,
      name: 'exec_command', arguments: JSON.stringify({ cmd: TOOL_CMD }) };
    const resp = { id, object: 'response', created_at: 0, model: body.model, status: 'in_progress',
      output: [] };
    sse(res, [
      ['response.created', { type: 'response.created', sequence_number: 0, response: resp }],
      ['response.output_item.added', { type: 'response.output_item.added', sequence_number: 1,
        output_index: 0, item: { ...call, status: 'in_progress', arguments: '' } }],
      ['response.function_call_arguments.delta', { type: 'response.function_call_arguments.delta',
        sequence_number: 2, item_id: call.id, output_index: 0, delta: call.arguments }],
      ['response.function_call_arguments.done', { type: 'response.function_call_arguments.done',
        sequence_number: 3, item_id: call.id, output_index: 0, arguments: call.arguments }],
      ['response.output_item.done', { type: 'response.output_item.done', sequence_number: 4,
        output_index: 0, item: call }],
      ['response.completed', { type: 'response.completed', sequence_number: 5,
        response: { ...resp, status: 'completed', output: [call],
          usage: { input_tokens: 10, output_tokens: 1, total_tokens: 11 } } }],
    ]);
    return;
  }
  const item = { id: `msg_${n}`, type: 'message', role: 'assistant', status: 'completed',
    content: [{ type: 'output_text', text: 'recorded', annotations: [] }] };
  const resp = { id, object: 'response', created_at: 0, model: body.model, status: 'in_progress',
    output: [] };
  sse(res, [
    ['response.created', { type: 'response.created', sequence_number: 0, response: resp }],
    ['response.output_item.added', { type: 'response.output_item.added', sequence_number: 1,
      output_index: 0, item: { ...item, status: 'in_progress', content: [] } }],
    ['response.content_part.added', { type: 'response.content_part.added', sequence_number: 2,
      item_id: item.id, output_index: 0, content_index: 0,
      part: { type: 'output_text', text: '', annotations: [] } }],
    ['response.output_text.delta', { type: 'response.output_text.delta', sequence_number: 3,
      item_id: item.id, output_index: 0, content_index: 0, delta: 'recorded' }],
    ['response.output_text.done', { type: 'response.output_text.done', sequence_number: 4,
      item_id: item.id, output_index: 0, content_index: 0, text: 'recorded' }],
    ['response.content_part.done', { type: 'response.content_part.done', sequence_number: 5,
      item_id: item.id, output_index: 0, content_index: 0, part: item.content[0] }],
    ['response.output_item.done', { type: 'response.output_item.done', sequence_number: 6,
      output_index: 0, item }],
    ['response.completed', { type: 'response.completed', sequence_number: 7,
      response: { ...resp, status: 'completed', output: [item],
        usage: { input_tokens: 10, output_tokens: 1, total_tokens: 11,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens_details: { reasoning_tokens: 0 } } } }],
  ]);
}

function messages(res, body) {
  const id = `msg_${++n}`;
  const msgs = Array.isArray(body.messages) ? body.messages : [];
  const lastUser = [...msgs].reverse().find((m) => m.role === 'user') || {};
  const sawResult = Array.isArray(lastUser.content) &&
    lastUser.content.some((c) => c.type === 'tool_result');
  if (TOOL_CMD && body.stream && !sawResult && (body.tools || []).some((t) => t.name === 'Bash')) {
    const use = { type: 'tool_use', id: `toolu_${n}`, name: 'Bash', input: {} };
    sse(res, [
      ['message_start', { type: 'message_start', message: { id, type: 'message',
        role: 'assistant', model: body.model, content: [], stop_reason: null,
        stop_sequence: null, usage: { input_tokens: 10, output_tokens: 0 } } }],
      ['content_block_start', { type: 'content_block_start', index: 0, content_block: use }],
      ['content_block_delta', { type: 'content_block_delta', index: 0,
        delta: { type: 'input_json_delta', partial_json: JSON.stringify({ command: TOOL_CMD,
          description: 'run it' }) } }],
      ['content_block_stop', { type: 'content_block_stop', index: 0 }],
      ['message_delta', { type: 'message_delta',
        delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 1 } }],
      ['message_stop', { type: 'message_stop' }],
    ]);
    return;
  }
  if (!body.stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id, type: 'message', role: 'assistant', model: body.model,
      content: [{ type: 'text', text: 'recorded' }], stop_reason: 'end_turn',
      stop_sequence: null, usage: { input_tokens: 10, output_tokens: 1 } }));
    return;
  }
  sse(res, [
    ['message_start', { type: 'message_start', message: { id, type: 'message',
      role: 'assistant', model: body.model, content: [], stop_reason: null,
      stop_sequence: null, usage: { input_tokens: 10, output_tokens: 0 } } }],
    ['content_block_start', { type: 'content_block_start', index: 0,
      content_block: { type: 'text', text: '' } }],
    ['content_block_delta', { type: 'content_block_delta', index: 0,
      delta: { type: 'text_delta', text: 'recorded' } }],
    ['content_block_stop', { type: 'content_block_stop', index: 0 }],
    ['message_delta', { type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 1 } }],
    ['message_stop', { type: 'message_stop' }],
  ]);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks);
    const text = decode(req.headers, raw);
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch { body = text; }
    fs.appendFileSync(logfile, JSON.stringify({ method: req.method, url: req.url,
      headers: req.headers, bytes: raw.length, body }) + '\n');
    const path = req.url.split('?')[0];
    const json = (code, v) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(v));
    };
    if (req.method === 'HEAD' || (req.method === 'GET' && path === '/')) {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(req.method === 'HEAD' ? undefined : 'Ollama is running');
    } else if (path === '/api/version') {
      json(200, { version });
    } else if (path === '/api/tags') {
      json(200, { models: [{ name: MODEL, model: MODEL, modified_at: '2026-01-01T00:00:00Z',
        size: 1, digest: 'd'.repeat(64), details: { format: 'gguf', family: 'qwen3',
          parameter_size: '8B', quantization_level: 'Q4_K_M' } }] });
    } else if (path === '/v1/models') {
      json(200, { object: 'list', data: [{ id: MODEL, object: 'model', created: 0,
        owned_by: 'library' }] });
    } else if (req.method === 'POST' && path === '/v1/responses') {
      responses(res, body || {});
    } else if (req.method === 'POST' && path === '/v1/messages') {
      messages(res, body || {});
    } else {
      json(404, { error: 'not found' });
    }
  });
});
server.listen(port, '127.0.0.1', () => {
  console.error(`recorder on http://127.0.0.1:${server.address().port}`);
});
