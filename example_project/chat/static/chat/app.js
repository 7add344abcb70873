/* Shared helpers of the demo pages: CSRF, JSON posts, readable errors and an SSE reader for fetch responses. */
"use strict";

const ClaudeDemo = (() => {
  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function sendJSON(method, url, body, signal) {
    return fetch(url, {
      method,
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Accept": "text/event-stream, application/json"},
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      signal,
    });
  }

  function postJSON(url, body, signal) {
    return sendJSON("POST", url, body, signal);
  }

  async function readJSON(response) {
    try {
      return await response.json();
    } catch (_) {
      return null;
    }
  }

  /* A sentence a person can act on, for an HTTP error answer of our endpoints. */
  function describeError(status, payload) {
    const err = (payload && payload.error) || {};
    const message = typeof err.message === "string" ? err.message : "";
    if (status === 400) {
      if (/^[A-Z].*[.!?]$/.test(message)) return message; // already a sentence for the user
      const field = err.field ? `${err.field} ` : "";
      return `Invalid request: ${field}${message || "was not accepted"}`.trim();
    }
    if (status === 401) return "Your session has ended. Please log in again.";
    if (status === 403) return "The request was refused (security check). Reload the page and try again.";
    if (status === 404) return message || "Not found: it may have expired.";
    if (status === 409) return message || "Claude is still answering. Wait for the answer, or stop it first.";
    if (status === 429) {
      if (message) return `Quota exceeded: ${message}`;
      const wait = err.retry_after ? ` Try again in ${err.retry_after} seconds.` : "";
      return `Quota exceeded: you have used up your allowance for now.${wait}`;
    }
    if (status >= 500) return `Upstream error: ${message || "the AI service had a problem. Please try again."}`;
    return message || `Unexpected answer from the server (HTTP ${status}).`;
  }

  /* The readable text of an in-stream "error" event ({type, message}). */
  function describeStreamError(data) {
    const message = (data && data.message) || "The answer stream failed. Please try again.";
    return `Upstream error: ${message}`;
  }

  function showError(element, text) {
    element.textContent = text;
    element.hidden = !text;
  }

  function setStatus(element, state, text) {
    element.dataset.state = state;
    element.textContent = text;
  }

  /* Read a text/event-stream body from a fetch Response; call onEvent(name, data, id) per event, in order. */
  async function readSSE(response, onEvent) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    const dispatch = (block) => {
      let name = "message";
      let id = null;
      const data = [];
      for (const line of block.split("\n")) {
        if (!line || line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "event") name = value;
        else if (field === "data") data.push(value);
        else if (field === "id") id = value;
      }
      if (!data.length) return;
      let parsed;
      try {
        parsed = JSON.parse(data.join("\n"));
      } catch (_) {
        parsed = data.join("\n");
      }
      onEvent(name, parsed, id);
    };
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, {stream: true}).replace(/\r\n?/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        dispatch(block);
      }
    }
    if (buffer.trim()) dispatch(buffer);
  }

  return {csrfToken, sendJSON, postJSON, readJSON, describeError, describeStreamError, showError, setStatus, readSSE};
})();
