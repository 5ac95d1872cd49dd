// React hooks over streamClient.js. React is a peer dependency: this module
// imports 'react' and leaves resolving it to the app's bundler or import map.
//
//   const { text, status, error, start, stop } = useAIBlockStreaming('chat');
//   <button onClick={() => start('Hello')}>Ask</button> <p>{text}</p>
import { useCallback, useEffect, useRef, useState } from 'react';
import { StreamClient } from './streamClient.js';

// options: everything StreamClient takes (block, prompt, transport, baseUrl,
// retry, fallbackToCollect); `autoStart` starts on mount.
export function useAIStreaming(options) {
  const [text, setText] = useState('');
  const [chunks, setChunks] = useState([]);
  const [status, setStatus] = useState('idle');
  const [error, setError] = useState(null);
  const [result, setResult] = useState(null);
  const clientRef = useRef(null);
  const optionsRef = useRef(options);
  optionsRef.current = options;

  const stop = useCallback(() => { clientRef.current?.stop(); }, []);

  const start = useCallback((prompt) => {
    clientRef.current?.stop('idle');
    setText(''); setChunks([]); setError(null); setResult(null);
    const client = new StreamClient({
      ...optionsRef.current,
      prompt: prompt ?? optionsRef.current.prompt,
      onChunk: (ev, all) => { setText(all); setChunks((c) => [...c, ev.text]); optionsRef.current.onChunk?.(ev, all); },
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

  return { text, chunks, status, error, result, start, stop, client: clientRef.current };
}

export function useAIBlockStreaming(blockType, options = {}) {
  return useAIStreaming({ ...options, block: blockType });
}
