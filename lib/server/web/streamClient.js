// liveai stream client: an ES module with no dependencies and no build step.
//
//   import { StreamClient } from '/streamClient.js';
//   const client = new StreamClient({ block: 'chat', prompt: 'Hello',
//     onChunk: c => out.textContent += c.text, onStatus: s => status.textContent = s });
//   client.start();                    // or: for await (const ev of client.start()) {...}
//
// Transports: 'sse' (EventSource), 'fetch' (POST stream, read with fetch), 'ws'
// (WebSocket), or 'auto' (the first the browser has). A dropped connection is
// reconnected with exponential backoff and resumed with the last event id, so
// every event arrives once. Where no streaming transport exists, or the block
// has streaming disabled (409), the collect endpoint answers instead.
//
// Statuses: idle, connecting, streaming, reconnecting, done, stopped, error.
//
// `apiKey` (a server with [auth]): sent as `Authorization: Bearer` by fetch
// and collect, as the subprotocol "liveai.bearer.<key>" (beside "liveai") by
// WebSocket, and as ?access_token= by EventSource, which cannot send headers
// (the block must set allow_query_token).
//
// A `complete` event's usage is {input_tokens, output_tokens}, or null when the
// provider reported none (the server never makes numbers up).
//
// Contract v1.1: instead of `prompt`, pass `messages` (OpenAI's format, with
// tool calls and tool results), and `options`, `tools`, `tool_choice`; such a
// request goes by POST (fetch or WebSocket; EventSource can only GET). A model's
// reasoning arrives as `reasoning` events (onReasoning, client.reasoning) and
// its tool calls as `tool_call` fragments (onToolCall, client.toolCalls: the
// calls assembled, [{index, id, name, arguments}]); `complete.finish_reason`
// is then `tool_calls`.

const TERMINAL = new Set(['complete', 'error']);
const EVENTS = new Set(['chunk', 'reasoning', 'tool_call', 'complete', 'error']);

function seqOf(id) {
  const dot = id ? id.lastIndexOf('.') : -1;
  return dot < 0 ? -1 : Number(id.slice(dot + 1));
}

function delay(ms, signal) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
}

// A WHATWG event-stream parser for the fetch transport: bytes in, events out.
export class SSEParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.decoder = new TextDecoder();
    this.partial = '';
    this.data = [];
    this.type = '';
    this.lastEventId = '';
    this.retry = null;
    this.skipLF = false;
  }
  push(bytes) {
    let text = this.partial + this.decoder.decode(bytes, { stream: true });
    if (this.skipLF && text.startsWith('\n')) text = text.slice(1);
    this.skipLF = false;
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c !== '\n' && c !== '\r') continue;
      this.line(text.slice(start, i));
      if (c === '\r') {
        if (i + 1 < text.length) { if (text[i + 1] === '\n') i++; } else this.skipLF = true;
      }
      start = i + 1;
    }
    this.partial = text.slice(start);
  }
  line(line) {
    if (line === '') {
      if (this.data.length) {
        this.onEvent({ type: this.type || 'message', data: this.data.join('\n'), lastEventId: this.lastEventId });
      }
      this.data = []; this.type = '';
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.type = value;
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
  }
}

export class StreamClient {
  constructor(options) {
    this.options = {
      baseUrl: '', transport: 'auto', retry: {}, fallbackToCollect: true, ...options,
    };
    this.retry = { initialDelay: 500, maxDelay: 8000, maxAttempts: 8, ...this.options.retry };
    this.status = 'idle';
    this.text = '';
    this.chunks = [];
    this.reasoning = '';
    this.toolCalls = [];
    this.error = null;
    this.streamId = '';
    this.lastEventId = '';
    this.reconnects = 0;
    this.transportUsed = null;
    this._queue = [];
    this._waiters = [];
    this._ended = false;
  }

  // Starts streaming; returns the client, which is also an async iterator of events.
  start(prompt) {
    if (prompt !== undefined) this.options.prompt = prompt;
    this.stop('idle');
    this.text = ''; this.chunks = []; this.reasoning = ''; this.toolCalls = [];
    this.error = null; this.streamId = ''; this.lastEventId = '';
    this.reconnects = 0; this._failures = 0; this._queue = []; this._ended = false;
    this._abort = new AbortController();
    this._run(this._abort.signal);
    return this;
  }

  // Stops the stream: closes the connection and asks the server to cancel it.
  stop(status = 'stopped') {
    if (!this._abort) return;
    const wasRunning = !this._ended;
    this._abort.abort();
    this._abort = null;
    this._closeTransport?.(true);
    if (wasRunning && this.streamId && status === 'stopped') {
      fetch(`${this.options.baseUrl}/api/streams/${this.streamId}`, { method: 'DELETE', keepalive: true, headers: this._auth() })
        .catch(() => {});
    }
    if (wasRunning) { this._setStatus(status); this._finish(); }
  }

  [Symbol.asyncIterator]() {
    return {
      next: () => {
        if (this._queue.length) return Promise.resolve({ value: this._queue.shift(), done: false });
        if (this._ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this._waiters.push(resolve));
      },
      return: () => { this.stop(); return Promise.resolve({ value: undefined, done: true }); },
    };
  }

  _setStatus(s) {
    if (this.status === s) return;
    this.status = s;
    this.options.onStatus?.(s);
  }

  _emit(ev) {
    const w = this._waiters.shift();
    if (w) w({ value: ev, done: false }); else this._queue.push(ev);
  }

  _finish() {
    this._ended = true;
    for (const w of this._waiters.splice(0)) w({ value: undefined, done: true });
  }

  // One event of the contract; false when it was a duplicate.
  _accept(type, data, id) {
    if (id) {
      if (seqOf(id) <= seqOf(this.lastEventId) && this.lastEventId.startsWith(id.slice(0, id.lastIndexOf('.')))) return false;
      this.lastEventId = id;
      this.streamId = id.slice(0, id.lastIndexOf('.'));
    }
    this._failures = 0;
    const ev = { type, id, ...data };
    if (type === 'chunk') {
      this._setStatus('streaming');
      this.text += data.text;
      this.chunks.push(data.text);
      this.options.onChunk?.(ev, this.text);
    } else if (type === 'reasoning') {
      this._setStatus('streaming');
      this.reasoning += data.text;
      this.options.onReasoning?.(ev, this.reasoning);
    } else if (type === 'tool_call') {
      this._setStatus('streaming');
      const call = this.toolCalls[data.index] ??= { index: data.index, id: '', name: '', arguments: '' };
      if (data.id) call.id = data.id;
      if (data.name) call.name = data.name;
      call.arguments += data.arguments;
      this.options.onToolCall?.(ev, this.toolCalls);
    } else if (type === 'complete') {
      this.options.onComplete?.(ev, this.text);
    } else if (type === 'error') {
      this.error = ev;
      this.options.onError?.(ev);
    }
    this._emit(ev);
    if (TERMINAL.has(type)) {
      this._closeTransport?.(true);
      this._setStatus(type === 'complete' ? 'done' : 'error');
      this._finish();
    }
    return true;
  }

  _fail(code, message) {
    if (this._ended) return;
    this._accept('error', { code, message, retryable: false }, '');
  }

  // The request's JSON: a prompt, or a conversation (v1.1).
  _body(extra = {}) {
    const { prompt, messages, options, tools, tool_choice: toolChoice } = this.options;
    const body = messages ? { messages } : { prompt };
    if (options) body.options = options;
    if (tools) body.tools = tools;
    if (toolChoice) body.tool_choice = toolChoice;
    return { ...body, ...extra };
  }

  _pickTransport() {
    const t = this.options.transport;
    // EventSource can only GET ?prompt=: a conversation goes by POST.
    if (t === 'sse' && this.options.messages) return 'fetch';
    if (t !== 'auto') return t;
    if (this.options.messages && typeof fetch !== 'undefined' && typeof ReadableStream !== 'undefined') return 'fetch';
    if (typeof EventSource !== 'undefined') return 'sse';
    if (typeof fetch !== 'undefined' && typeof ReadableStream !== 'undefined') return 'fetch';
    if (typeof WebSocket !== 'undefined') return 'ws';
    return 'collect';
  }

  async _run(signal) {
    this._setStatus('connecting');
    let transport = this._pickTransport();
    if (transport === 'sse' && typeof EventSource === 'undefined') transport = 'fetch';
    if (transport === 'ws' && typeof WebSocket === 'undefined') transport = 'fetch';
    if (transport === 'fetch' && (typeof fetch === 'undefined' || typeof ReadableStream === 'undefined')) transport = 'collect';
    this.transportUsed = transport;
    while (!signal.aborted && !this._ended) {
      let outcome;
      try {
        if (transport === 'sse') outcome = await this._viaEventSource(signal);
        else if (transport === 'ws') outcome = await this._viaWebSocket(signal);
        else if (transport === 'fetch') outcome = await this._viaFetch(signal);
        else outcome = await this._viaCollect(signal);
      } catch (e) {
        outcome = { retry: true, why: String(e && e.message || e) };
      }
      if (signal.aborted || this._ended) return;
      if (outcome.fallback) { transport = this.transportUsed = 'collect'; continue; }
      if (outcome.switchTo) { transport = outcome.switchTo; continue; }
      if (!outcome.retry) return;
      // Dropped: back off, then resume after the last event received.
      if (++this._failures > this.retry.maxAttempts) {
        this._fail('retries_exhausted', `gave up after ${this.retry.maxAttempts} reconnects: ${outcome.why}`);
        return;
      }
      this._setStatus('reconnecting');
      const base = outcome.serverDelay ?? this.retry.initialDelay;
      const wait = Math.min(this.retry.maxDelay, base * 2 ** (this._failures - 1)) * (1 + Math.random() * 0.2);
      await delay(wait, signal);
      this.reconnects++;
    }
  }

  _url(path) {
    const { baseUrl, block } = this.options;
    return `${baseUrl}${path}${encodeURIComponent(block)}`;
  }

  async _httpError(res) {
    let code = 'http_' + res.status, message = res.statusText;
    try { const body = await res.json(); code = body.error.code; message = body.error.message; } catch { /* not JSON */ }
    return { code, message };
  }

  // An API key ([auth] on the server): a header where the transport can send
  // one; EventSource cannot, so it sends ?access_token= (the block must
  // allow it) and the WebSocket a "liveai.bearer.<key>" subprotocol.
  _auth(headers = {}) {
    if (this.options.apiKey) headers.Authorization = `Bearer ${this.options.apiKey}`;
    return headers;
  }

  // EventSource reconnects by itself, sending Last-Event-ID (the server's
  // preamble gives it an id even before the first event). When it gives up
  // (an HTTP error), the fetch transport takes over to learn why and resume.
  _viaEventSource(signal) {
    return new Promise((resolve) => {
      const token = this.options.apiKey ? `&access_token=${encodeURIComponent(this.options.apiKey)}` : '';
      const url = `${this._url('/api/stream/ai-block/')}?resumable=1&prompt=${encodeURIComponent(this.options.prompt)}${token}`;
      const es = new EventSource(url);
      const close = () => { es.close(); resolve({ done: true }); };
      this._closeTransport = close;
      signal.addEventListener('abort', close, { once: true });
      es.onopen = () => { if (this.status !== 'streaming') this._setStatus(this.lastEventId ? 'streaming' : 'connecting'); };
      for (const type of ['chunk', 'reasoning', 'tool_call', 'complete']) {
        es.addEventListener(type, (e) => this._accept(type, JSON.parse(e.data), e.lastEventId));
      }
      es.addEventListener('error', (e) => {
        if (e.data) { this._accept('error', JSON.parse(e.data), e.lastEventId); return; }
        if (this._ended) return;
        if (es.readyState === EventSource.CONNECTING) {
          this._setStatus('reconnecting');
          if (++this._failures > this.retry.maxAttempts) {
            es.close();
            this._fail('retries_exhausted', 'the connection kept failing');
            resolve({ done: true });
          }
          return;
        }
        // CLOSED: an HTTP error (or 204). Let fetch resume and report.
        es.close();
        resolve({ switchTo: 'fetch' });
      });
    });
  }

  async _viaFetch(signal) {
    const resuming = this.lastEventId !== '';
    const headers = this._auth({ 'Content-Type': 'application/json', Accept: 'text/event-stream' });
    if (resuming) headers['Last-Event-ID'] = this.lastEventId;
    const ctl = new AbortController();
    signal.addEventListener('abort', () => ctl.abort(), { once: true });
    this._closeTransport = () => ctl.abort();
    let res;
    try {
      res = await fetch(this._url('/api/stream/ai-block/'), {
        method: 'POST', headers, body: JSON.stringify(this._body({ resumable: true })), signal: ctl.signal,
      });
    } catch (e) {
      return { retry: true, why: 'network: ' + e.message };
    }
    if (res.status === 204) { this._setStatus('done'); this._finish(); return { done: true }; }
    if (res.status === 409 && this.options.fallbackToCollect) return { fallback: true };
    if (res.status === 503 || res.status === 429 || res.status === 502 || res.status === 504) {
      const after = Number(res.headers.get('Retry-After'));
      return { retry: true, why: 'HTTP ' + res.status, serverDelay: after ? after * 1000 : undefined };
    }
    if (!res.ok) {
      const { code, message } = await this._httpError(res);
      this._fail(code, message);
      return { done: true };
    }
    let serverDelay;
    const parser = new SSEParser((e) => {
      if (EVENTS.has(e.type)) this._accept(e.type, JSON.parse(e.data), e.lastEventId);
    });
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.push(value);
        // The preamble's id counts: a drop before the first event resumes.
        if (!this.lastEventId && parser.lastEventId) {
          this.lastEventId = parser.lastEventId;
          this.streamId = parser.lastEventId.slice(0, parser.lastEventId.lastIndexOf('.'));  // Stop can DELETE it
        }
        if (parser.retry != null) serverDelay = parser.retry;
        if (this._ended) return { done: true };
      }
    } catch (e) {
      return { retry: true, why: 'read: ' + e.message, serverDelay };
    }
    return this._ended ? { done: true } : { retry: true, why: 'the stream ended without a terminal event', serverDelay };
  }

  _viaWebSocket(signal) {
    return new Promise((resolve) => {
      const base = this.options.baseUrl || location.origin;
      const url = base.replace(/^http/, 'ws') + this._url('/api/ws/ai-block/');
      const ws = this.options.apiKey ? new WebSocket(url, ['liveai', `liveai.bearer.${this.options.apiKey}`]) : new WebSocket(url);
      let settled = false;
      const settle = (v) => { if (!settled) { settled = true; resolve(v); } };
      this._closeTransport = (cancel) => {
        if (cancel && ws.readyState === WebSocket.OPEN && !this._ended) ws.send(JSON.stringify({ type: 'cancel' }));
        ws.close();
        settle({ done: true });
      };
      signal.addEventListener('abort', () => this._closeTransport(true), { once: true });
      ws.onopen = () => {
        ws.send(JSON.stringify(this.lastEventId
          ? { type: 'resume', last_event_id: this.lastEventId }
          : { type: 'start', ...this._body({ resumable: true }) }));
      };
      ws.onmessage = (m) => {
        const msg = JSON.parse(m.data);
        const { type, id, ...data } = msg;
        if (type === 'started') { this.lastEventId = id; this.streamId = msg.stream_id; return; }
        if (type === 'resumed') { this._setStatus('done'); this._finish(); ws.close(); settle({ done: true }); return; }
        if (type === 'error' && !id) {
          if (data.code === 'streaming_disabled' && this.options.fallbackToCollect) { ws.close(); settle({ fallback: true }); return; }
          this._fail(data.code, data.message); ws.close(); settle({ done: true }); return;
        }
        if (type === 'tool_call' && data.call_id) { data.id = data.call_id; delete data.call_id; }
        this._accept(type, data, id);
        if (this._ended) { ws.close(); settle({ done: true }); }
      };
      ws.onclose = () => settle(this._ended ? { done: true } : { retry: true, why: 'the WebSocket closed' });
    });
  }

  // No streaming: one POST to the collect endpoint, the whole text at once.
  async _viaCollect(signal) {
    let res;
    try {
      res = await fetch(this._url('/api/ai-block/'), {
        method: 'POST', headers: this._auth({ 'Content-Type': 'application/json' }),
        body: JSON.stringify(this._body()), signal,
      });
    } catch (e) {
      return { retry: true, why: 'network: ' + e.message };
    }
    if (!res.ok) {
      if (res.status === 503 || res.status === 429) return { retry: true, why: 'HTTP ' + res.status };
      const { code, message } = await this._httpError(res);
      this._fail(code, message);
      return { done: true };
    }
    const body = await res.json();
    if (body.reasoning) this._accept('reasoning', { index: 0, text: body.reasoning }, '');
    if (body.text) this._accept('chunk', { index: 0, text: body.text }, '');
    (body.tool_calls ?? []).forEach((c, index) => this._accept('tool_call', { index, ...c }, ''));
    this._accept('complete', { finish_reason: body.finish_reason, usage: body.usage, chunks: body.text ? 1 : 0 }, '');
    return { done: true };
  }
}

// One call: stream a block's answer; resolves with the whole text.
export async function streamAIBlock(block, prompt, options = {}) {
  const client = new StreamClient({ ...options, block, prompt });
  for await (const ev of client.start()) {
    if (ev.type === 'error') throw Object.assign(new Error(ev.message), { code: ev.code });
  }
  return client.text;
}
