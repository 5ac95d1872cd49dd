// React hooks over streamClient.js. React is a peer dependency: this module
// imports 'react' and leaves resolving it to the app's bundler or import map.
//
//   const { text, reasoning, toolCalls, status, error, start, stop } = useAIBlockStreaming('chat');
//   <button onClick={() => start('Hello')}>Ask</button> <p>{text}</p>
//   start({ messages: [...], tools: [...] }) sends a conversation (contract v1.1).
import { useCallback, useEffect, useRef, useState } from 'react';
import { StreamClient } from './streamClient.js';

// options: everything StreamClient takes (block, prompt, transport, baseUrl,
// retry, fallbackToCollect); `autoStart` starts on mount.
export function useAIStreaming(options) {
  const [text, setText] = useState('');
  const [chunks, setChunks] = useState([]);
  const [reasoning, setReasoning] = useState('');
  const [toolCalls, setToolCalls] = useState([]);
  const [status, setStatus] = useState('idle');
  const [error, setError] = useState(null);
  const [result, setResult] = useState(null);
  const clientRef = useRef(null);
  const optionsRef = useRef(options);
  optionsRef.current = options;

  const stop = useCallback(() => { clientRef.current?.stop(); }, []);

  // start(prompt), or start({messages, options, tools, tool_choice}).
  const start = useCallback((request) => {
    clientRef.current?.stop('idle');
    setText(''); setChunks([]); setReasoning(''); setToolCalls([]); setError(null); setResult(null);
    const asked = typeof request === 'object' && request !== null ? request : { prompt: request ?? optionsRef.current.prompt };
    const client = new StreamClient({
      ...optionsRef.current,
      ...asked,
      onChunk: (ev, all) => { setText(all); setChunks((c) => [...c, ev.text]); optionsRef.current.onChunk?.(ev, all); },
      onReasoning: (ev, all) => { setReasoning(all); optionsRef.current.onReasoning?.(ev, all); },
      onToolCall: (ev, calls) => { setToolCalls(calls.map((c) => ({ ...c }))); optionsRef.current.onToolCall?.(ev, calls); },
      onComplete: (ev, all) => { setResult(ev); optionsRef.current.onComplete?.(ev, all); },
      onError: (ev) => { setError(ev); optionsRef.current.onError?.(ev); },
      onStatus: (s) => { setStatus(s); optionsRef.current.onStatus?.(s); },
    });
    clientRef.current = client;
    client.start();
    return client;
  }, []);

  useEffect(() => {
    if (optionsRef.current.autoStart) start();
    return () => clientRef.current?.stop('idle');  // unmount: close the stream
  }, [start]);

  return { text, chunks, reasoning, toolCalls, status, error, result, start, stop, client: clientRef.current };
}

export function useAIBlockStreaming(blockType, options = {}) {
  return useAIStreaming({ ...options, block: blockType });
}
