// A small React page on the hooks, bundled by the test with esbuild.
import React from 'react';
import { createRoot } from 'react-dom/client';
import { useAIBlockStreaming } from '../../lib/server/web/streamHooks.js';

function App() {
  const params = new URLSearchParams(location.search);
  const { text, chunks, reasoning, toolCalls, status, error, start, stop } = useAIBlockStreaming(params.get('block') || 'chat', {
    transport: params.get('transport') || 'sse',
  });
  return (
    <main>
      <button id="start" onClick={() => start(params.get('prompt') || 'react hooks')}>Start</button>
      <button id="stop" onClick={stop}>Stop</button>
      <p id="status">{status}</p>
      <p id="count">{chunks.length}</p>
      <p id="text">{text}</p>
      <p id="reasoning">{reasoning}</p>
      <ul id="tools">{toolCalls.map((c) => <li key={c.index}>{c.name}({c.arguments})</li>)}</ul>
      {error && <p id="error">{error.code}</p>}
    </main>
  );
}

createRoot(document.getElementById('root')).render(<App />);
