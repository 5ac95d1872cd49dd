// Node.js `http` peer: the contract's bench blocks. usage: node node_server.js PORT
'use strict';
const http = require('http');
const crypto = require('crypto');

const WORDS = [' the', ' stream', ' token', ' flows', ' fast', ' and', ' clear', ' over'];
const BLOCKS = { 'bench-burst': [256, 0], 'bench-paced': [64, 20] };

function event(sid, seq, name, payload) {
  return `id: ${sid}.${seq}\nevent: ${name}\ndata: ${JSON.stringify(payload)}\n\n`;
}

function stream(res, block) {
  const [count, delay] = BLOCKS[block];
  const sid = crypto.randomBytes(8).toString('hex');
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache',
    'X-Accel-Buffering': 'no',
  });
  res.write('retry: 2000\n\n');
  let i = 0;
  let closed = false;
  res.on('close', () => { closed = true; });
  const finish = () => {
    res.end(event(sid, count + 1, 'complete',
      { finish_reason: 'stop', usage: { input_tokens: 1, output_tokens: count }, chunks: count }));
  };
  const step = () => {
    if (closed) return;
    res.write(event(sid, i + 1, 'chunk', { index: i, text: WORDS[i % WORDS.length] }));
    i += 1;
    if (i === count) return finish();
    setTimeout(step, delay);
  };
  if (delay === 0) {
    for (; i < count; i += 1) res.write(event(sid, i + 1, 'chunk', { index: i, text: WORDS[i % WORDS.length] }));
    finish();
  } else {
    step();
  }
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const streamMatch = url.pathname.match(/^\/api\/stream\/ai-block\/([a-z0-9_-]+)$/);
  if (req.method === 'GET' && streamMatch && BLOCKS[streamMatch[1]]) return stream(res, streamMatch[1]);
  const collectMatch = url.pathname.match(/^\/api\/ai-block\/([a-z0-9_-]+)$/);
  if (req.method === 'POST' && collectMatch) {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      JSON.parse(body);
      const [count] = BLOCKS[collectMatch[1]] || [256];
      let text = '';
      for (let i = 0; i < count; i += 1) text += WORDS[i % WORDS.length];
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ block_type: collectMatch[1], text, finish_reason: 'stop',
        usage: { input_tokens: 1, output_tokens: count } }));
    });
    return undefined;
  }
  res.writeHead(404, { 'Content-Type': 'application/json' });
  res.end('{"error":{"code":"not_found","message":"no such endpoint"}}');
  return undefined;
});
server.keepAliveTimeout = 60000;
server.listen(Number(process.argv[2]), '127.0.0.1', 4096);
