#!/usr/bin/env node
// Read a UI message stream the way a `useChat` frontend does, with the real `ai` package, and print what the
// client assembled. Usage:
//
//   node read_stream.mjs URL [--text TEXT] [--chat-id ID] [--extra JSON] [--body JSON]
//                            [--method POST|GET] [--resume] [--header 'Name: value']... [--cookie 'a=b; c=d']
//                            [--abort-after N] [--stop-url URL --stop-after N] [--timeout-ms MS]
//
// POST (the default) goes through the package's DefaultChatTransport.sendMessages: its body is exactly what
// useChat sends for a new user message saying --text (plus the --extra fields, useChat's `body` option), unless
// --body gives the whole body. GET (--resume) goes through DefaultChatTransport.reconnectToStream against URL
// (a 204 answer means "no active stream"). The chunks are parsed by the transport (parseJsonEventStream with
// uiMessageChunkSchema) and assembled by readUIMessageStream. --abort-after N aborts the request after N chunks,
// as useChat's stop() does (and a lost connection). --stop-url with --stop-after N POSTs to a server's Stop URL
// (same headers) after N chunks and goes on reading: `stop` in the output says how many chunks had arrived when
// the Stop request was sent (`sentAt`) and when its answer came back (`answeredAt`), and its HTTP status.
//
// Prints one JSON object on stdout: {status, headers, request, message (the final UIMessage or null), chunks,
// errors (the errorText of `error` chunks), protocolErrors, done (saw `data: [DONE]`), aborted, stop}.
// Exit code: 0 when protocolErrors is empty, 2 when it is not, 1 when the request could not be made.
import { DefaultChatTransport, readUIMessageStream } from 'ai';

const STREAM_HEADER = 'x-vercel-ai-ui-message-stream';

function usage(message) {
  process.stderr.write(`read_stream: ${message}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const options = { method: 'POST', headers: {}, chatId: 'chat-1', text: 'Hello', timeoutMs: 30000 };
  const args = [...argv];
  const value = (name) => {
    if (args.length === 0) usage(`${name} needs a value`);
    return args.shift();
  };
  const json = (name) => {
    const text = value(name);
    try {
      return JSON.parse(text);
    } catch (error) {
      return usage(`${name} is not valid JSON: ${error.message}`);
    }
  };
  const integer = (name) => {
    const number = Number(value(name));
    if (!Number.isInteger(number) || number < 0) usage(`${name} must be a non-negative integer`);
    return number;
  };
  while (args.length > 0) {
    const arg = args.shift();
    if (arg === '--method') options.method = value(arg).toUpperCase();
    else if (arg === '--resume') options.method = 'GET';
    else if (arg === '--body') options.body = json(arg);
    else if (arg === '--extra') options.extra = json(arg);
    else if (arg === '--text') options.text = value(arg);
    else if (arg === '--chat-id') options.chatId = value(arg);
    else if (arg === '--cookie') options.headers.cookie = value(arg);
    else if (arg === '--abort-after') options.abortAfter = integer(arg);
    else if (arg === '--stop-url') options.stopUrl = value(arg);
    else if (arg === '--stop-after') options.stopAfter = integer(arg);
    else if (arg === '--timeout-ms') options.timeoutMs = integer(arg);
    else if (arg === '--header') {
      const header = value(arg);
      const colon = header.indexOf(':');
      if (colon < 1) usage(`--header must look like 'Name: value', got ${JSON.stringify(header)}`);
      options.headers[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim();
    } else if (arg.startsWith('--')) usage(`unknown option ${arg}`);
    else if (options.url === undefined) options.url = arg;
    else usage(`unexpected argument ${arg}`);
  }
  if (options.url === undefined) usage('a URL is required');
  if (options.method !== 'POST' && options.method !== 'GET') usage('--method must be POST or GET');
  if ((options.stopUrl === undefined) !== (options.stopAfter === undefined)) usage('--stop-url and --stop-after go together');
  return options;
}

// The first lines of an error message (a failed schema check lists every alternative of the chunk union).
function brief(text) {
  return text.length <= 300 ? text : `${text.slice(0, 300)}...`;
}

// What the protocol asks of a stream beyond what the client enforces (it is lenient about endings).
function checkSequence(chunks, { aborted }) {
  const problems = [];
  if (chunks.length === 0) return aborted ? problems : ['the stream has no chunks'];
  if (chunks[0].type !== 'start') problems.push(`the first chunk is ${chunks[0].type}, not start`);
  const starts = chunks.filter((chunk) => chunk.type === 'start').length;
  if (starts !== 1) problems.push(`${starts} start chunks`);
  const open = new Map();
  chunks.forEach((chunk, index) => {
    const kind = /^(text|reasoning)-(start|delta|end)$/.exec(chunk.type);
    if (kind === null) return;
    const key = `${kind[1]}:${chunk.id}`;
    if (kind[2] === 'start') {
      if (open.has(key)) problems.push(`chunk ${index}: ${kind[1]} part ${chunk.id} started twice`);
      open.set(key, index);
    } else if (!open.has(key)) {
      problems.push(`chunk ${index}: ${chunk.type} for ${kind[1]} part ${chunk.id}, which is not open`);
    } else if (kind[2] === 'end') open.delete(key);
  });
  if (!aborted) {
    const finishes = chunks.filter((chunk) => chunk.type === 'finish').length;
    if (finishes !== 1) problems.push(`${finishes} finish chunks`);
    if (chunks.at(-1).type !== 'finish') problems.push(`the last chunk is ${chunks.at(-1).type}, not finish`);
    for (const key of open.keys()) problems.push(`part ${key} was never ended`);
  }
  return problems;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const result = {
    status: null,
    headers: {},
    request: null,
    message: null,
    chunks: [],
    errors: [],
    protocolErrors: [],
    done: false,
    aborted: false,
    stop: null,
  };
  const abortController = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abortController.abort();
  }, options.timeoutMs);
  let raw = Promise.resolve('');

  // The transport's fetch: records the request and the response head, and keeps a copy of the raw bytes.
  const recordingFetch = async (url, init) => {
    result.request = { url: String(url), method: init.method, body: init.body ? JSON.parse(init.body) : null };
    const response = await fetch(url, init);
    result.status = response.status;
    result.headers = Object.fromEntries(response.headers.entries());
    if (!response.ok || response.body === null) return response;
    const [forClient, forCheck] = response.body.tee();
    raw = new Response(forCheck).text().catch(() => '');
    return new Response(forClient, { status: response.status, statusText: response.statusText, headers: response.headers });
  };

  const transport = new DefaultChatTransport({
    api: options.url,
    headers: options.headers,
    body: options.extra ?? {},
    fetch: recordingFetch,
    prepareSendMessagesRequest: options.body === undefined ? undefined : () => ({ body: options.body }),
    prepareReconnectToStreamRequest: () => ({ api: options.url }),
  });

  let stream;
  try {
    stream =
      options.method === 'GET'
        ? await transport.reconnectToStream({ chatId: options.chatId, abortSignal: abortController.signal })
        : await transport.sendMessages({
            chatId: options.chatId,
            messages: [{ id: 'user-1', role: 'user', parts: [{ type: 'text', text: options.text }] }],
            trigger: 'submit-message',
            messageId: undefined,
            abortSignal: abortController.signal,
          });
  } catch (error) {
    clearTimeout(timer);
    if (result.status === null) {
      process.stderr.write(`read_stream: the request failed: ${error.message}\n`);
      process.exit(1);
    }
    result.protocolErrors.push(`HTTP ${result.status}: ${error.message}`);
    finish(result, 2);
    return;
  }

  if (stream === null) {
    clearTimeout(timer); // 204 from a resume URL: nothing to read
  } else {
    const pendingErrorTexts = [];
    let seen = 0;
    let stopping = Promise.resolve();
    const sendStop = () => {
      const sentAt = result.chunks.length;
      stopping = fetch(options.stopUrl, { method: 'POST', headers: options.headers })
        .then((response) => {
          result.stop = { status: response.status, sentAt, answeredAt: result.chunks.length };
        })
        .catch((error) => {
          result.protocolErrors.push(`the Stop request failed: ${error.message}`);
        });
    };
    const tapped = stream.pipeThrough(
      new TransformStream({
        transform(chunk, controller) {
          result.chunks.push(chunk);
          if (chunk.type === 'error') {
            result.errors.push(chunk.errorText);
            pendingErrorTexts.push(chunk.errorText);
          }
          controller.enqueue(chunk);
          seen += 1;
          if (options.stopAfter !== undefined && seen === options.stopAfter) sendStop();
          if (options.abortAfter !== undefined && seen >= options.abortAfter) {
            result.aborted = true;
            abortController.abort();
            controller.terminate();
          }
        },
      }),
    );
    const onError = (error) => {
      // `error` chunks reach here as plain Errors carrying their text; anything else is a protocol failure.
      const index = pendingErrorTexts.indexOf(error?.message);
      if (error?.constructor === Error && index !== -1) pendingErrorTexts.splice(index, 1);
      else if (result.aborted && error?.name === 'AbortError') return;
      else result.protocolErrors.push(`${error?.name ?? 'Error'}: ${brief(error?.message ?? String(error))}`);
    };
    try {
      for await (const message of readUIMessageStream({ stream: tapped, onError })) result.message = message;
    } catch (error) {
      onError(error);
    }
    await stopping;
    clearTimeout(timer);
    if (timedOut) result.protocolErrors.push(`timed out after ${options.timeoutMs} ms`);
    const text = await raw;
    result.done = /(^|\n)data: \[DONE\](\r\n|\r|\n)/.test(text);
    if (!result.aborted && !timedOut) {
      if (!result.done) result.protocolErrors.push('the stream did not end with data: [DONE]');
      else if (!/data: \[DONE\](\r\n|\r|\n){2}$/.test(text)) result.protocolErrors.push('data after [DONE]');
    }
    result.protocolErrors.push(...checkSequence(result.chunks, { aborted: result.aborted || timedOut }));
  }

  if (result.status !== 204) {
    if (result.headers[STREAM_HEADER] !== 'v1') {
      result.protocolErrors.push(`header ${STREAM_HEADER} is ${JSON.stringify(result.headers[STREAM_HEADER])}, not "v1"`);
    }
    if (!(result.headers['content-type'] ?? '').startsWith('text/event-stream')) {
      result.protocolErrors.push(`content-type is ${JSON.stringify(result.headers['content-type'])}`);
    }
  }
  finish(result, result.protocolErrors.length === 0 ? 0 : 2);
}

// Exit only once stdout has taken the whole line (it can be large).
function finish(result, code) {
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(code));
}

main().catch((error) => {
  process.stderr.write(`read_stream: ${error.stack ?? error}\n`);
  process.exit(1);
});
