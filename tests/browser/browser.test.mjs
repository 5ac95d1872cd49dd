// The browser client in headless Chromium (Debian's), driven by playwright-core,
// against a real liveai-server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import * as esbuild from 'esbuild';
import { startServer, startProxy, metric, waitFor, collect, here, root } from './harness.mjs';

const artifacts = process.env.LIVEAI_ARTIFACTS || path.join(here, 'artifacts');
fs.mkdirSync(artifacts, { recursive: true });

let server, browser;

before(async () => {
  server = await startServer();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// Runs the demo page until the status is final; returns the text states seen.
async function runDemo(page, { block, transport, prompt, during }) {
  await page.selectOption('#block', block);
  await page.selectOption('#transport', transport);
  await page.fill('#prompt', prompt);
  await page.click('#go');
  const states = [];
  let hook = during;
  for (const end = Date.now() + 30000; Date.now() < end;) {
    const [text, status] = await page.evaluate(() => [document.getElementById('out').textContent,
      document.getElementById('status').dataset.status]);
    if (states.at(-1) !== text) states.push(text);
    if (hook && (await hook(text, status))) hook = null;
    if (['done', 'error', 'stopped'].includes(status)) return { states, status, text };
    await page.waitForTimeout(10);
  }
  throw new Error('the demo page did not finish');
}

test('demo page: text grows token by token over SSE, with a screenshot mid-stream', async () => {
  const page = await browser.newPage({ viewport: { width: 900, height: 560 } });
  await page.goto(server.url + '/');
  const prompt = 'Show me streaming in a browser';
  let shot = false;
  const { states, status, text } = await runDemo(page, {
    block: 'chat', transport: 'sse', prompt,
    during: async (t) => {
      if (!shot && t.length > 80) {
        shot = true;
        await page.screenshot({ path: path.join(artifacts, 'demo-mid-stream.png') });
        return true;
      }
      return false;
    },
  });
  assert.equal(status, 'done');
  assert.equal(text, await collect(server.port, 'chat', prompt));
  assert.ok(states.length >= 10, `only ${states.length} distinct DOM states`);
  assert.ok(shot);
  console.log(`# sse: ${states.length} distinct DOM states before done; final text ${text.length} chars`);
  await page.close();
});

test('Stop cancels the provider on the server', async () => {
  const page = await browser.newPage();
  await page.goto(server.url + '/');
  const before = await metric(server.port, 'liveai_provider_cancellations_total');
  const { status } = await runDemo(page, {
    block: 'slow', transport: 'sse', prompt: 'stop me',
    during: async (t, s) => {
      if (s === 'streaming' && t.length > 10) { await page.click('#stop'); return true; }
      return false;
    },
  });
  assert.equal(status, 'stopped');
  const t0 = Date.now();
  await waitFor(async () => (await metric(server.port, 'liveai_provider_cancellations_total')) === before + 1, 2000);
  console.log(`# stop: provider cancelled ${Date.now() - t0} ms after the page showed "stopped"`);
  assert.equal(await metric(server.port, 'liveai_streams_active'), 0);
  await page.close();
});

for (const transport of ['sse', 'fetch', 'ws']) {
  test(`a connection dropped mid-stream resumes with the full text exactly once (${transport})`, async () => {
    const proxy = await startProxy(server.port);
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${proxy.port}/`);
    const resumesBefore = await metric(server.port, 'liveai_stream_resumes_total');
    const prompt = `resume over ${transport}`;
    let dropped = false;
    const { status, text, states } = await runDemo(page, {
      block: 'story', transport, prompt,
      during: async (t) => {
        if (!dropped && t.length > 60) { dropped = true; await proxy.restart(400); return true; }
        return false;
      },
    });
    assert.ok(dropped);
    assert.equal(status, 'done');
    const expected = await collect(server.port, 'story', prompt);
    assert.equal(text, expected);
    const chunks = await page.evaluate(() => window.liveaiClient.chunks.length);
    const reconnects = await page.evaluate(() => window.liveaiClient.reconnects);
    assert.equal(chunks, 80);
    const resumes = (await metric(server.port, 'liveai_stream_resumes_total')) - resumesBefore;
    assert.ok(resumes >= 1, 'the server served no resume');
    console.log(`# ${transport}: dropped after ${states.find((s) => s.length > 60).length} chars; ` +
      `${chunks} chunks once each, text identical to collect; client reconnects ${reconnects}, server resumes ${resumes}`);
    await page.close();
    await proxy.close();
  });
}

test('WebSocket path streams and Stop sends cancel', async () => {
  const page = await browser.newPage();
  await page.goto(server.url + '/');
  const prompt = 'over a websocket';
  const { status, text, states } = await runDemo(page, { block: 'chat', transport: 'ws', prompt });
  assert.equal(status, 'done');
  assert.equal(text, await collect(server.port, 'chat', prompt));
  assert.ok(states.length >= 10);
  const before = await metric(server.port, 'liveai_provider_cancellations_total');
  const stopped = await runDemo(page, {
    block: 'slow', transport: 'ws', prompt: 'stop',
    during: async (t, s) => { if (s === 'streaming' && t.length > 5) { await page.click('#stop'); return true; } return false; },
  });
  assert.equal(stopped.status, 'stopped');
  await waitFor(async () => (await metric(server.port, 'liveai_provider_cancellations_total')) === before + 1, 2000);
  await page.close();
});

test('a block without streaming falls back to the collect endpoint', async () => {
  const page = await browser.newPage();
  await page.goto(server.url + '/');
  const { status, text } = await runDemo(page, { block: 'report', transport: 'sse', prompt: 'fallback' });
  assert.equal(status, 'done');
  assert.equal(text, await collect(server.port, 'report', 'fallback'));
  assert.equal(await page.evaluate(() => window.liveaiClient.transportUsed), 'collect');
  await page.close();
});

test('demo page shows reasoning and a tool call (contract v1.1), and a tool round trip streams', async () => {
  const page = await browser.newPage({ viewport: { width: 900, height: 560 } });
  await page.goto(server.url + '/');
  for (const transport of ['sse', 'ws']) {
    const { status, text } = await runDemo(page, { block: 'agent', transport, prompt: 'Weather in Paris?' });
    assert.equal(status, 'done');
    assert.equal(text, 'Let me look that up.');
    const [reasoning, tools] = await page.evaluate(() => [document.getElementById('reasoning').textContent,
      document.getElementById('tools').textContent]);
    assert.equal(reasoning, 'thinking: The user asks for the weather, so call the tool.');
    assert.equal(tools, 'tool call get_weather({"city": "Paris", "unit": "celsius"})');
    if (transport === 'sse') await page.screenshot({ path: path.join(artifacts, 'demo-tool-call.png') });
  }
  // The round trip from the client: the tool's result goes back as a tool message.
  const round = await page.evaluate(async () => {
    const { StreamClient } = await import('/streamClient.js');
    const first = new StreamClient({ block: 'agent', messages: [{ role: 'user', content: 'Weather in Paris?' }] });
    let done;
    for await (const ev of first.start()) if (ev.type === 'complete') done = ev;
    const call = first.toolCalls[0];
    const second = new StreamClient({
      block: 'agent', transport: 'ws',
      messages: [{ role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: first.text, tool_calls: [{ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }] },
        { role: 'tool', tool_call_id: call.id, content: '18 C, sunny' }],
    });
    let end;
    for await (const ev of second.start()) if (ev.type === 'complete') end = ev;
    return { finish: done.finish_reason, call, transport: first.transportUsed, answer: second.text, end: end.finish_reason,
      calls: second.toolCalls.length };
  });
  assert.equal(round.finish, 'tool_calls');
  assert.equal(round.transport, 'fetch');  // a conversation goes by POST
  assert.deepEqual(round.call, { index: 0, id: 'call_mock_0', name: 'get_weather', arguments: '{"city": "Paris", "unit": "celsius"}' });
  assert.equal(round.answer, 'Let me look that up.');
  assert.equal(round.end, 'stop');
  assert.equal(round.calls, 0);
  await page.close();
});

test('async iterator, and the collect fallback where the browser has no streaming transport', async () => {
  const page = await browser.newPage();
  await page.goto(server.url + '/');
  const prompt = 'iterate';
  const viaIterator = await page.evaluate(async (p) => {
    const { StreamClient } = await import('/streamClient.js');
    const events = [];
    for await (const ev of new StreamClient({ block: 'chat', prompt: p, transport: 'fetch' }).start()) events.push(ev);
    return events;
  }, prompt);
  assert.equal(viaIterator.length, 41);
  assert.deepEqual(viaIterator.slice(0, 40).map((e) => e.index), [...Array(40).keys()]);
  assert.equal(viaIterator.at(-1).type, 'complete');
  assert.equal(viaIterator.slice(0, 40).map((e) => e.text).join(''), await collect(server.port, 'chat', prompt));
  // A browser without EventSource, streaming fetch and WebSocket: 'auto' polls the collect endpoint.
  const bare = await browser.newPage();
  await bare.addInitScript(() => { delete window.EventSource; delete window.ReadableStream; delete window.WebSocket; });
  await bare.goto(server.url + '/healthz');
  const fallback = await bare.evaluate(async (p) => {
    const { streamAIBlock, StreamClient } = await import('/streamClient.js');
    const text = await streamAIBlock('chat', p, { transport: 'auto' });
    const c = new StreamClient({ block: 'chat', prompt: p });
    for await (const ev of c.start()) { /* drain */ }
    return { text, transport: c.transportUsed, status: c.status };
  }, prompt);
  assert.equal(fallback.text, await collect(server.port, 'chat', prompt));
  assert.equal(fallback.transport, 'collect');
  assert.equal(fallback.status, 'done');
  await page.close();
  await bare.close();
});

test('React hooks: useAIBlockStreaming renders text as it streams', async () => {
  const bundle = await esbuild.build({
    entryPoints: [path.join(here, 'react-app.jsx')], bundle: true, write: false, format: 'esm',
    nodePaths: [path.join(here, 'node_modules')], jsx: 'automatic', define: { 'process.env.NODE_ENV': '"production"' }, logLevel: 'silent',
  });
  const page = await browser.newPage();
  // Served from the server's origin (no CORS), by the test.
  await page.route('**/react-test.html*', (route) => route.fulfill({
    contentType: 'text/html', body: '<!doctype html><div id="root"></div><script type="module" src="/react-test.js"></script>',
  }));
  await page.route('**/react-test.js', (route) => route.fulfill({
    contentType: 'text/javascript', body: bundle.outputFiles[0].text,
  }));
  const prompt = 'react hooks';
  await page.goto(`${server.url}/react-test.html?block=chat&prompt=${encodeURIComponent(prompt)}`);
  await page.click('#start');
  const states = new Set();
  await waitFor(async () => {
    const [text, status] = await page.evaluate(() => [document.getElementById('text').textContent,
      document.getElementById('status').textContent]);
    states.add(text);
    return status === 'done';
  }, 20000, 10);
  const text = await page.textContent('#text');
  assert.equal(text, await collect(server.port, 'chat', prompt));
  assert.equal(await page.textContent('#count'), '40');
  assert.ok(states.size >= 10, `only ${states.size} renders seen`);
  // v1.1 kinds through the hook: reasoning and assembled tool calls.
  await page.goto(`${server.url}/react-test.html?block=agent&prompt=weather`);
  await page.click('#start');
  await waitFor(async () => (await page.textContent('#status')) === 'done', 20000, 10);
  assert.equal(await page.textContent('#reasoning'), 'The user asks for the weather, so call the tool.');
  assert.equal(await page.textContent('#tools'), 'get_weather({"city": "Paris", "unit": "celsius"})');
  // Stop from the hook cancels on the server.
  await page.goto(`${server.url}/react-test.html?block=slow`);
  const before = await metric(server.port, 'liveai_provider_cancellations_total');
  await page.click('#start');
  await waitFor(async () => (await page.textContent('#status')) === 'streaming');
  await page.click('#stop');
  await waitFor(async () => (await page.textContent('#status')) === 'stopped');
  await waitFor(async () => (await metric(server.port, 'liveai_provider_cancellations_total')) === before + 1, 2000);
  console.log(`# react: ${states.size} distinct renders of the streamed text; Stop cancelled on the server`);
  await page.close();
});

test('usage is null when the provider reported none, over every transport', async () => {
  // An OpenAI-compatible upstream that reports no usage, as llama.cpp does.
  const http = await import('node:http');
  const os = await import('node:os');
  const chunk = (text, finish) => `data: {"object":"chat.completion.chunk","model":"local","choices":[{"index":0,"delta":{"content":"${text}"},"finish_reason":${finish}}]}\n\n`;
  const upstream = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.end(chunk('no', 'null') + chunk(' usage', 'null') + chunk('', '"stop"') + 'data: [DONE]\n\n');
    });
  });
  await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const config = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'liveai-')), 'nousage.toml');
  fs.writeFileSync(config, '[server]\nhost = "127.0.0.1"\nlog_level = "warn"\n[blocks.local]\nprovider = "openai"\n' +
    'model = "local"\nstreaming = true\n[blocks.local.openai]\nbase_url = "http://127.0.0.1:' + upstream.address().port +
    '/v1"\napi_key_env = ""\n');
  const local = await startServer(config);
  try {
    const page = await browser.newPage();
    await page.goto(local.url + '/');
    const results = await page.evaluate(async () => {
      const { StreamClient } = await import('/streamClient.js');
      const out = {};
      for (const transport of ['sse', 'fetch', 'ws']) {
        let completed;
        const c = new StreamClient({ block: 'local', prompt: 'hi', transport, onComplete: (ev, text) => { completed = { usage: ev.usage, text }; } });
        for await (const ev of c.start()) { /* drain */ }
        out[transport] = completed;
      }
      return out;
    });
    for (const transport of ['sse', 'fetch', 'ws']) {
      assert.equal(results[transport]?.text, 'no usage', transport);
      assert.equal(results[transport].usage, null, transport);
    }
    await page.close();
  } finally {
    await local.stop();
    upstream.close();
  }
});

test('API keys from the browser: a header by fetch, ?access_token= by EventSource, a subprotocol by WebSocket; CORS and Origin', async () => {
  const gateway = await startServer(path.join(here, 'gateway.toml'));
  try {
    // Same origin: the page comes from the gateway itself.
    const page = await browser.newPage();
    await page.goto(gateway.url + '/');
    const run = (options) => page.evaluate(async (o) => {
      const { StreamClient } = await import('/streamClient.js');
      const c = new StreamClient({ block: 'chat', prompt: 'keys in a browser', retry: { maxAttempts: 1 }, fallbackToCollect: false, ...o });
      for await (const ev of c.start()) { /* drain */ }
      return { status: c.status, text: c.text, error: c.error?.code ?? c.error?.message ?? null };
    }, options);
    const expected = (await (await fetch(`${gateway.url}/api/ai-block/chat`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer lk-sdk-test-key' },
      body: JSON.stringify({ prompt: 'keys in a browser' }),
    })).json()).text;
    for (const transport of ['sse', 'fetch', 'ws']) {
      const ok = await run({ transport, apiKey: 'lk-sdk-test-key' });
      assert.equal(ok.status, 'done', `${transport}: ${JSON.stringify(ok)}`);
      assert.equal(ok.text, expected, transport);
    }
    const refused = await run({ transport: 'fetch' });
    assert.equal(refused.status, 'error');
    assert.equal(refused.error, 'unauthorized');
    // Another origin: the page comes from the first server. fetch with a
    // key needs a preflight, which the gateway answers (cors_allowed_origins
    // = ["*"]); its WebSocket endpoint takes the same origin only.
    const other = await browser.newPage();
    await other.goto(server.url + '/');
    const cross = await other.evaluate(async (base) => {
      const { StreamClient } = await import('/streamClient.js');
      const viaFetch = new StreamClient({ baseUrl: base, block: 'chat', prompt: 'cross', transport: 'fetch', apiKey: 'lk-sdk-test-key' });
      for await (const ev of viaFetch.start()) { /* drain */ }
      const wsRefused = await new Promise((resolve) => {
        const ws = new WebSocket(base.replace(/^http/, 'ws') + '/api/ws/ai-block/chat', ['liveai', 'liveai.bearer.lk-sdk-test-key']);
        ws.onopen = () => { ws.close(); resolve(false); };
        ws.onerror = () => resolve(true);
      });
      return { status: viaFetch.status, text: viaFetch.text, wsRefused };
    }, gateway.url);
    assert.equal(cross.status, 'done', JSON.stringify(cross));
    assert.ok(cross.text.length > 0);
    assert.equal(cross.wsRefused, true);
    await page.close();
    await other.close();
  } finally {
    await gateway.stop();
  }
});
