// Interop with clients and proxies a user would put in front of liveai:
// curl -N, the npm eventsource (v3) and ws packages, and nginx.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import { SSEParser } from '../../lib/server/web/streamClient.js';
import { startServer, startProxy, metric, waitFor, collect, root } from './harness.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

// Reads an SSE response with fetch, timing each event's arrival.
async function timedStream(url, headers = {}) {
  const t0 = performance.now();
  const res = await fetch(url, { headers });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const events = [];
  const parser = new SSEParser((e) => events.push({ ...e, at: performance.now() - t0 }));
  for await (const bytes of res.body) parser.push(bytes);
  return events;
}

function spread(events) {
  const chunks = events.filter((e) => e.type === 'chunk');
  return { first: chunks[0].at, last: chunks.at(-1).at, distinct: new Set(chunks.map((e) => Math.round(e.at))).size };
}

test('curl -N prints each event as it arrives', async () => {
  const prompt = 'curl';
  const t0 = performance.now();
  const curl = spawn('curl', ['-sN', `${server.url}/api/stream/ai-block/chat?prompt=${prompt}`]);
  const arrivals = [];
  let out = '';
  curl.stdout.on('data', (d) => { out += d; arrivals.push(performance.now() - t0); });
  const code = await new Promise((resolve) => curl.on('exit', resolve));
  assert.equal(code, 0);
  const events = [];
  const parser = new SSEParser((e) => events.push(e));
  parser.push(new TextEncoder().encode(out));
  assert.equal(events.filter((e) => e.type === 'chunk').length, 40);
  assert.equal(events.at(-1).type, 'complete');
  assert.equal(events.filter((e) => e.type === 'chunk').map((e) => JSON.parse(e.data).text).join(''),
    await collect(server.port, 'chat', prompt));
  // 40 chunks 30 ms apart: curl saw them over ~1.2 s in many separate reads.
  assert.ok(arrivals.length >= 30, `curl got only ${arrivals.length} reads`);
  assert.ok(arrivals.at(-1) - arrivals[0] > 1000);
  console.log(`# curl -N: ${arrivals.length} reads from ${arrivals[0].toFixed(0)} ms to ${arrivals.at(-1).toFixed(0)} ms`);
});

test('npm eventsource v3 receives the events and resumes through a dropped connection', async () => {
  const proxy = await startProxy(server.port);
  const prompt = 'eventsource package';
  const texts = [];
  const ids = [];
  const es = new EventSource(`http://127.0.0.1:${proxy.port}/api/stream/ai-block/story?prompt=${encodeURIComponent(prompt)}`);
  const done = new Promise((resolve, reject) => {
    es.addEventListener('chunk', async (e) => {
      texts.push(JSON.parse(e.data).text);
      ids.push(e.lastEventId);
      if (texts.length === 20) await proxy.restart(200);
    });
    es.addEventListener('complete', (e) => { ids.push(e.lastEventId); es.close(); resolve(JSON.parse(e.data)); });
    setTimeout(() => reject(new Error('eventsource: no complete event')), 20000);
  });
  const complete = await done;
  assert.equal(complete.chunks, 80);
  assert.equal(texts.length, 80);
  assert.equal(texts.join(''), await collect(server.port, 'story', prompt));
  const streamId = ids[0].split('.')[0];
  assert.deepEqual(ids, Array.from({ length: 81 }, (_, i) => `${streamId}.${i + 1}`));
  assert.ok(proxy.connections >= 2);
  console.log(`# eventsource: 80 chunks once each over ${proxy.connections} connections`);
  await proxy.close();
});

test('npm ws: start, resume on a new connection after a drop, cancel', async () => {
  const proxy = await startProxy(server.port);
  const prompt = 'ws package';
  const url = `ws://127.0.0.1:${proxy.port}/api/ws/ai-block/story`;
  const got = [];
  let lastId = '';
  const run = (first) => new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.on('open', () => ws.send(JSON.stringify(first ? { type: 'start', prompt, resumable: true }
      : { type: 'resume', last_event_id: lastId })));
    ws.on('message', async (m) => {
      const msg = JSON.parse(m);
      if (msg.type === 'started') { lastId = msg.id; return; }
      got.push(msg); lastId = msg.id;
      if (first && got.length === 25) proxy.cut();
      if (msg.type === 'complete') { ws.close(); }
    });
    ws.on('close', () => resolve());
    ws.on('error', () => {});
  });
  await run(true);
  assert.ok(got.length >= 25 && got.length < 81);
  await run(false);
  assert.equal(got.at(-1).type, 'complete');
  assert.equal(got.length, 81);
  assert.deepEqual(got.slice(0, 80).map((m) => m.index), Array.from({ length: 80 }, (_, i) => i));
  assert.equal(got.slice(0, 80).map((m) => m.text).join(''), await collect(server.port, 'story', prompt));
  // cancel: the provider stops at once.
  const before = await metric(server.port, 'liveai_provider_cancellations_total');
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/ws/ai-block/slow`);
  const terminal = await new Promise((resolve) => {
    ws.on('open', () => ws.send(JSON.stringify({ type: 'start', prompt: 'x' })));
    ws.on('message', (m) => {
      const msg = JSON.parse(m);
      if (msg.type === 'chunk' && msg.index === 2) ws.send(JSON.stringify({ type: 'cancel' }));
      if (msg.type === 'complete' || msg.type === 'error') { ws.close(); resolve(msg); }
    });
  });
  assert.equal(terminal.finish_reason, 'cancelled');
  await waitFor(async () => (await metric(server.port, 'liveai_provider_cancellations_total')) === before + 1, 2000);
  console.log('# ws: 80 chunks once each across a dropped connection; cancel stopped the provider');
  await proxy.close();
});

test('nginx reverse proxy (examples/nginx/liveai.conf) streams without delay, SSE and WebSocket', async (t) => {
  const nginx = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => fs.existsSync(p));
  assert.ok(nginx, 'nginx is not installed (scripts/setup installs nginx-light)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liveai-nginx-'));
  // A port the kernel just handed out, not a random one: a random port
  // collided with the ephemeral ports of tests running beside this one.
  const nginxPort = await new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => { const { port } = probe.address(); probe.close(() => resolve(port)); });
  });
  const site = fs.readFileSync(path.join(root, 'examples/nginx/liveai.conf'), 'utf8')
    .replace('127.0.0.1:8080', `127.0.0.1:${server.port}`).replace('127.0.0.1:8081', `127.0.0.1:${nginxPort}`);
  fs.writeFileSync(path.join(dir, 'liveai.conf'), site);
  fs.writeFileSync(path.join(dir, 'nginx.conf'), `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  include ${dir}/liveai.conf;
}
`);
  const check = spawnSync(nginx, ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf')], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);
  const proc = spawn(nginx, ['-p', dir, '-c', path.join(dir, 'nginx.conf')], { stdio: 'inherit' });
  t.after(() => proc.kill('SIGQUIT'));
  await waitFor(async () => {
    try { return (await fetch(`http://127.0.0.1:${nginxPort}/healthz`)).ok; } catch { return false; }
  });
  const prompt = 'through nginx';
  const direct = spread(await timedStream(`${server.url}/api/stream/ai-block/chat?prompt=${encodeURIComponent(prompt)}`));
  const events = await timedStream(`http://127.0.0.1:${nginxPort}/api/stream/ai-block/chat?prompt=${encodeURIComponent(prompt)}`);
  const proxied = spread(events);
  assert.equal(events.filter((e) => e.type === 'chunk').map((e) => JSON.parse(e.data).text).join(''),
    await collect(server.port, 'chat', prompt));
  // Unbuffered: events arrive spread over the generation, as they do direct.
  assert.ok(proxied.distinct >= 30, `only ${proxied.distinct} distinct arrival times through nginx`);
  assert.ok(proxied.first < direct.first + 100, `first chunk ${proxied.first} ms via nginx vs ${direct.first} ms direct`);
  assert.ok(proxied.last - proxied.first > 1000);
  // Resume through nginx: Last-Event-ID is passed to the upstream.
  const streamId = events[0].lastEventId.split('.')[0];
  const tail = await timedStream(`http://127.0.0.1:${nginxPort}/api/stream/ai-block/chat?prompt=x`, { 'Last-Event-ID': `${streamId}.30` });
  assert.equal(tail[0].lastEventId, `${streamId}.31`);
  assert.equal(tail.length, 11);
  // WebSocket through nginx.
  const ws = new WebSocket(`ws://127.0.0.1:${nginxPort}/api/ws/ai-block/chat`);
  const messages = await new Promise((resolve, reject) => {
    const got = [];
    ws.on('open', () => ws.send(JSON.stringify({ type: 'start', prompt })));
    ws.on('message', (m) => { const msg = JSON.parse(m); got.push(msg); if (msg.type === 'complete') { ws.close(); resolve(got); } });
    ws.on('error', reject);
  });
  assert.equal(messages.length, 41);
  console.log(`# nginx: first chunk ${proxied.first.toFixed(1)} ms (direct ${direct.first.toFixed(1)} ms), ` +
    `last ${proxied.last.toFixed(0)} ms (direct ${direct.last.toFixed(0)} ms), ${proxied.distinct} distinct arrival times; ` +
    'resume and WebSocket pass through');
});
