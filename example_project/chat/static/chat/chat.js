/* The chat page: POST the conversation to claude-web's SSE chat view and append each text event as it arrives. */
"use strict";

(() => {
  const form = document.getElementById("chat-form");
  const prompt = document.getElementById("prompt");
  const model = document.getElementById("model");
  const maxTokens = document.getElementById("max-tokens");
  const send = document.getElementById("send");
  const stop = document.getElementById("stop");
  const status = document.getElementById("status");
  const conversation = document.getElementById("conversation");
  const errorBox = document.getElementById("chat-error");
  const history = [];
  let controller = null;

  function bubble(role, text) {
    const div = document.createElement("div");
    div.className = `bubble ${role}`;
    div.textContent = text;
    conversation.appendChild(div);
    div.scrollIntoView({block: "end"});
    return div;
  }

  function finish(state, label) {
    ClaudeDemo.setStatus(status, state, label);
    send.disabled = false;
    stop.disabled = true;
    controller = null;
  }

  stop.addEventListener("click", () => {
    if (controller) controller.abort();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (controller) return;
    const text = prompt.value;
    ClaudeDemo.showError(errorBox, "");
    const turn = [...history, {role: "user", content: text}];
    const body = {messages: turn, model: model.value};
    if (maxTokens.value !== "") body.max_tokens = Number(maxTokens.value);
    controller = new AbortController();
    send.disabled = true;
    stop.disabled = false;
    ClaudeDemo.setStatus(status, "waiting", "Waiting for Claude…");
    const asked = bubble("user", text);
    let answer = null;
    let received = "";
    let failed = null;
    let finished = false;
    try {
      const response = await ClaudeDemo.postJSON(form.dataset.url, body, controller.signal);
      if (!response.ok) {
        asked.remove();
        const payload = await ClaudeDemo.readJSON(response);
        ClaudeDemo.showError(errorBox, ClaudeDemo.describeError(response.status, payload));
        finish("error", "Not sent");
        return;
      }
      answer = bubble("assistant", "");
      answer.classList.add("streaming");
      await ClaudeDemo.readSSE(response, (name, data) => {
        if (name === "text") {
          received += data.text;
          answer.textContent = received;
          ClaudeDemo.setStatus(status, "streaming", "Streaming…");
        } else if (name === "error") {
          failed = ClaudeDemo.describeStreamError(data);
        } else if (name === "done") {
          finished = true;
        }
      });
    } catch (err) {
      if (err.name === "AbortError") {
        if (answer) {
          answer.classList.remove("streaming");
          answer.classList.add("stopped");
        }
        if (received) history.push({role: "user", content: text}, {role: "assistant", content: received});
        prompt.value = "";
        finish("stopped", "Stopped");
        return;
      }
      failed = `Connection problem: ${err.message}`;
    }
    if (answer) answer.classList.remove("streaming");
    if (failed || !finished) {
      if (answer && !received) answer.remove();
      if (!received) asked.remove();
      ClaudeDemo.showError(errorBox, failed || "The answer stream ended early. Please try again.");
      finish("error", "Failed");
      return;
    }
    history.push({role: "user", content: text}, {role: "assistant", content: received});
    prompt.value = "";
    finish("done", "Done");
  });
})();
