// The official `openai` npm package against liveai's OpenAI-compatible
// endpoints: only the base URL and the key change, as for any gateway.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import OpenAI, { APIError, AuthenticationError, NotFoundError, PermissionDeniedError } from 'openai';
import { here, startServer, metric, waitFor } from './harness.mjs';

const key = 'lk-sdk-test-key';
const metricsKey = 'lk-metrics-test-key';
let server;
let client;

before(async () => {
  server = await startServer(path.join(here, 'gateway.toml'));
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: key, maxRetries: 0, timeout: 10000 });
});
after(async () => { await server?.stop(); });

const messages = [{ role: 'user', content: 'Say hello to the SDK' }];

test('a whole answer: chat.completions.create', async () => {
  const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 64 });
  assert.equal(completion.object, 'chat.completion');
  assert.equal(completion.choices[0].message.role, 'assistant');
  assert.equal(completion.choices[0].finish_reason, 'stop');
  assert.ok(completion.choices[0].message.content.length > 0);
  assert.equal(completion.usage.total_tokens, completion.usage.prompt_tokens + completion.usage.completion_tokens);
  console.log('create:', JSON.stringify(completion));
});

test('a stream: the same text, chunk by chunk, and its usage', async () => {
  const whole = await client.chat.completions.create({ model: 'chat', messages });
  const stream = await client.chat.completions.create({
    model: 'chat', messages, stream: true, stream_options: { include_usage: true },
  });
  let text = '';
  let chunks = 0;
  let finish = null;
  let usage = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.choices.length === 0) { usage = chunk.usage; continue; }
    chunks++;
    text += chunk.choices[0].delta.content ?? '';
    finish = chunk.choices[0].finish_reason ?? finish;
  }
  assert.equal(text, whole.choices[0].message.content);
  assert.equal(finish, 'stop');
  assert.ok(chunks >= 12, `${chunks} chunks`);
  assert.ok(usage && usage.completion_tokens === 12, JSON.stringify(usage));
  console.log(`stream: ${chunks} chunks, text ${JSON.stringify(text)}, usage ${JSON.stringify(usage)}`);
});

test("a streamed tool call, assembled by the SDK's own stream helper", async () => {
  const runner = client.chat.completions.stream({
    model: 'agent',
    messages: [{ role: 'user', content: 'Weather in Paris?' }],
    tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
  });
  const fragments = [];
  runner.on('tool_calls.function.arguments.delta', (e) => fragments.push(e.arguments_delta));
  const final = await runner.finalChatCompletion();
  const call = final.choices[0].message.tool_calls[0];
  assert.equal(final.choices[0].finish_reason, 'tool_calls');
  assert.equal(call.type, 'function');
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris', unit: 'celsius' });
  assert.ok(fragments.length > 1, `arguments came in ${fragments.length} fragments`);
  console.log(`tool call: ${call.id} ${call.function.name}(${call.function.arguments}) from ${fragments.length} fragments`);
});

test('AbortController: an abort cancels the provider', async () => {
  const cancelledBefore = await metric(server.port, 'liveai_provider_cancellations_total', '', metricsKey);
  const controller = new AbortController();
  const stream = await client.chat.completions.create({ model: 'slow', messages, stream: true }, { signal: controller.signal });
  let seen = 0;
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta?.content) seen++;
    if (seen === 2) controller.abort();
  }
  assert.equal(seen, 2);
  await waitFor(async () => (await metric(server.port, 'liveai_provider_cancellations_total', '', metricsKey)) === cancelledBefore + 1);
  const cancelled = await metric(server.port, 'liveai_block_streams_total', 'block="slow"', metricsKey);
  assert.ok(cancelled >= 1);
  console.log(`abort: provider cancellations ${cancelledBefore} -> ${cancelledBefore + 1}`);
});

test('a failure inside the stream throws, never looks finished', async () => {
  const stream = await client.chat.completions.create({ model: 'fail', messages, stream: true });
  let chunks = 0;
  await assert.rejects(async () => { for await (const _ of stream) chunks++; }, (e) => {
    assert.ok(e instanceof APIError);
    assert.equal(e.code, 'upstream_unavailable');
    return true;
  });
  assert.equal(chunks, 2);
});

test('a bad key is an AuthenticationError, a foreign block a PermissionDeniedError', async () => {
  const wrong = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'lk-not-a-key', maxRetries: 0 });
  await assert.rejects(wrong.chat.completions.create({ model: 'chat', messages }), (e) => {
    assert.ok(e instanceof AuthenticationError, e.constructor.name);
    assert.equal(e.status, 401);
    return true;
  });
  await assert.rejects(client.chat.completions.create({ model: 'private', messages }), (e) => {
    assert.ok(e instanceof PermissionDeniedError, e.constructor.name);
    return true;
  });
});

test('an unknown model is a NotFoundError; an unknown field a 400 naming it', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'gpt-9', messages }), (e) => {
    assert.ok(e instanceof NotFoundError, e.constructor.name);
    assert.equal(e.code, 'model_not_found');
    assert.equal(e.param, 'model');
    return true;
  });
  await assert.rejects(client.chat.completions.create({ model: 'chat', messages, logit_bias: { 50256: -100 } }), (e) => {
    assert.equal(e.status, 400);
    assert.equal(e.param, 'logit_bias');
    return true;
  });
});

test('models.list lists the blocks the key may use', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepEqual(ids, ['agent', 'gpt-4o-mini', 'fail', 'slow']);
});

test('curl -N: the raw events, each as it comes', async () => {
  const { spawn } = await import('node:child_process');
  const body = JSON.stringify({ model: 'chat', messages, stream: true });
  const curl = spawn('curl', ['-sN', `${server.url}/v1/chat/completions`, '-H', `Authorization: Bearer ${key}`,
    '-H', 'Content-Type: application/json', '-d', body]);
  let out = '';
  const arrivals = [];
  const t0 = performance.now();
  curl.stdout.on('data', (d) => { out += d; arrivals.push(performance.now() - t0); });
  const code = await new Promise((resolve) => curl.on('exit', resolve));
  assert.equal(code, 0);
  const events = out.split('\n\n').filter((e) => e.length);
  assert.ok(events.every((e) => e.startsWith('data: ')), out);
  assert.equal(events.at(-1), 'data: [DONE]');
  const first = JSON.parse(events[0].slice(6));
  assert.equal(first.choices[0].delta.role, 'assistant');
  // 12 tokens 2 ms apart: they come in more than one read, not all at the end.
  assert.ok(arrivals.length > 1, `${arrivals.length} reads`);
  console.log(`curl -N: ${events.length} events in ${arrivals.length} reads; first ${events[0]}; last ${events.at(-2)}`);
});
