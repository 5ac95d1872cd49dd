// Shared by the browser and interop tests: a real liveai-server on an
// ephemeral port, a TCP proxy that can drop every connection, metrics.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '../..');
export const serverBinary = process.env.LIVEAI_SERVER || path.join(root, 'build/release/app/liveai-server');

export async function startServer(config = path.join(here, 'browser.toml')) {
  const proc = spawn(serverBinary, ['--config', config, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) resolve(Number(m[1]));
    });
    proc.on('exit', (code) => reject(new Error(`liveai-server exited with ${code}`)));
    setTimeout(() => reject(new Error('liveai-server did not start')), 10000);
  });
  return {
    port, url: `http://127.0.0.1:${port}`,
    stop: () => new Promise((resolve) => { proc.once('exit', resolve); proc.kill('SIGTERM'); }),
  };
}

export async function metric(port, name, label = '', key = '') {
  const headers = key ? { Authorization: `Bearer ${key}` } : {};
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers })).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const [key, value] = line.split(' ');
    const bare = key.split('{')[0];
    if (bare === name && (!label || key.includes(label))) sum += Number(value);
  }
  return sum;
}

export async function waitFor(predicate, timeoutMs = 10000, everyMs = 25) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await predicate();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting for ' + predicate.toString().slice(0, 120));
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function collect(port, block, prompt) {
  const res = await fetch(`http://127.0.0.1:${port}/api/ai-block/${block}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ prompt }),
  });
  return (await res.json()).text;
}

// A TCP proxy in front of the server that "restarts": drops every open
// connection (RST) and refuses new ones for a moment, like a flapping link.
export async function startProxy(targetPort) {
  const sockets = new Set();
  let server;
  let port = 0;
  let connections = 0;
  const listen = () => new Promise((resolve) => {
    server = net.createServer((client) => {
      connections++;
      const upstream = net.connect(targetPort, '127.0.0.1');
      sockets.add(client); sockets.add(upstream);
      client.pipe(upstream); upstream.pipe(client);
      const drop = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
      client.on('error', drop); upstream.on('error', drop); client.on('close', drop); upstream.on('close', drop);
    });
    server.listen(port, '127.0.0.1', () => { port = server.address().port; resolve(); });
  });
  await listen();
  return {
    get port() { return port; },
    get connections() { return connections; },
    async restart(downMs = 300) {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const s of sockets) s.resetAndDestroy ? s.resetAndDestroy() : s.destroy();
      sockets.clear();
      await closed;
      await new Promise((r) => setTimeout(r, downMs));
      await listen();
    },
    cut() { for (const s of sockets) s.resetAndDestroy ? s.resetAndDestroy() : s.destroy(); sockets.clear(); },
    close: () => { for (const s of sockets) s.destroy(); return new Promise((r) => server.close(r)); },
  };
}
