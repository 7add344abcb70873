// The example site's AI SDK page: React with `useChat` from @ai-sdk/react, on claude-web's conversation endpoints.
//
// The page (chat/templates/chat/aisdk.html) gives us, on #aisdk-root: the transport's api (POST
// .../conversations/ai-sdk/; DefaultChatTransport resumes with GET {api}/{chat id}/stream), the chat id, the page
// URL of a chat and the assistant of a new chat; and the stored messages as UI messages in #aisdk-messages (after
// a reload). The CSRF token comes from <meta name="csrf-token">: Django checks it on every POST.
//
// Stop POSTs to {api}/{chat id}/stop: the server closes the upstream call and the stream ends with an abort
// chunk. (useChat's own stop() would only close this tab's connection: the answer would go on on the server.)
//
// Rebuild the bundle with `make frontend` (esbuild; the built file is committed, so `make demo` needs no Node).
import { useChat } from '@ai-sdk/react';
import { DefaultChatTransport, generateId } from 'ai';
import { useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';

const root = document.getElementById('aisdk-root');
const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? '';
const initialMessages = JSON.parse(document.getElementById('aisdk-messages')?.textContent || '[]');
const config = {
  api: root.dataset.api,
  chatId: root.dataset.chatId || generateId(),
  pageBase: root.dataset.pageBase,
  assistant: root.dataset.assistant,
};

function formatUsage(metadata) {
  const usage = metadata?.usage;
  if (!usage) return '';
  const tokens = (usage.input_tokens ?? 0) + (usage.output_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0)
    + (usage.cache_creation_input_tokens ?? 0);
  const cost = metadata.cost == null ? 'cost unknown' : `$${Number(metadata.cost).toFixed(4)}`;
  return `${tokens.toLocaleString('en-US')} tokens · ${cost}`;
}

function ToolPart({ part }) {
  const name = part.type.slice('tool-'.length);
  const input = part.input === undefined ? '' : JSON.stringify(part.input);
  let result = '…';
  if (part.state === 'output-available') result = typeof part.output === 'string' ? part.output : JSON.stringify(part.output);
  else if (part.state === 'output-error') result = part.errorText;
  return (
    <div className={`tool-call state-${part.state}`} data-tool={name}>
      <span className="tool-name">{name}</span>
      <code className="tool-input">{input}</code>
      <span className="tool-arrow">→</span>
      <code className="tool-output">{result}</code>
    </div>
  );
}

function Part({ part }) {
  if (part.type === 'text') return <div className="text">{part.text}</div>;
  if (part.type === 'reasoning') {
    return (
      <details className="reasoning">
        <summary>Thinking</summary>
        <div>{part.text}</div>
      </details>
    );
  }
  if (part.type.startsWith('tool-')) return <ToolPart part={part} />;
  return null;
}

function Message({ message }) {
  const stopped = message.metadata?.stop_reason === 'cancelled';
  const classes = ['bubble', message.role, stopped ? 'stopped' : ''].filter(Boolean).join(' ');
  return (
    <div className={classes} data-id={message.id}>
      {message.parts.map((part, index) => <Part key={index} part={part} />)}
      {message.role === 'assistant' && message.metadata?.usage ? (
        <div className="meta">{formatUsage(message.metadata)}</div>
      ) : null}
    </div>
  );
}

function statusOf(status, messages, error) {
  if (error) return ['error', error.message];
  if (status === 'submitted') return ['waiting', 'Waiting for Claude…'];
  if (status === 'streaming') return ['streaming', 'Claude is answering…'];
  const last = messages.at(-1);
  if (last?.role === 'assistant' && last.metadata?.stop_reason === 'cancelled') return ['stopped', 'Stopped.'];
  if (last?.role === 'assistant') return ['done', 'Done.'];
  return ['ready', 'Ask something.'];
}

function Chat() {
  const [input, setInput] = useState('');
  const transport = useMemo(
    () => new DefaultChatTransport({
      api: config.api,
      headers: { 'X-CSRFToken': csrf },
      credentials: 'same-origin',
      body: { assistant: config.assistant },
    }),
    [],
  );
  const { messages, sendMessage, status, error } = useChat({
    id: config.chatId,
    messages: initialMessages,
    transport,
    resume: true,
  });
  const busy = status === 'submitted' || status === 'streaming';
  const [state, label] = statusOf(status, messages, error);

  const send = (event) => {
    event.preventDefault();
    const text = input.trim();
    if (!text || busy) return;
    const url = `${config.pageBase}${config.chatId}/`;
    if (window.location.pathname !== url) window.history.replaceState(null, '', url);
    sendMessage({ text });
    setInput('');
  };
  const stop = () => {
    fetch(`${config.api}${config.chatId}/stop`, { method: 'POST', headers: { 'X-CSRFToken': csrf } });
  };

  return (
    <div className="aisdk-chat">
      <div id="conversation" className="conversation">
        {messages.map((message) => <Message key={message.id} message={message} />)}
      </div>
      <form id="chat-form" onSubmit={send}>
        <textarea id="prompt" rows={3} value={input} placeholder="Ask Claude (try some arithmetic)"
          onChange={(event) => setInput(event.target.value)} />
        <div className="controls">
          <button id="send" type="submit" disabled={busy}>Send</button>
          <button id="stop" type="button" onClick={stop} hidden={!busy}>Stop</button>
          <span id="status" className="status" data-state={state} role="status">{label}</span>
        </div>
      </form>
    </div>
  );
}

createRoot(root).render(<Chat />);
