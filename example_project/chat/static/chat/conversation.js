/* The conversation page: a sidebar of my conversations, the transcript kept on the server, answers streamed as
   server-sent events (text, tool calls and their results inline), Stop, rename and delete. A reload shows the
   stored history and, when an answer is still being written, follows it again from its first event. */
"use strict";

(() => {
  const root = document.getElementById("chat");
  const listUrl = root.dataset.listUrl;
  const pageBase = root.dataset.pageBase;
  const defaultAssistant = root.dataset.assistant || "";
  const form = document.getElementById("chat-form");
  const prompt = document.getElementById("prompt");
  const send = document.getElementById("send");
  const stop = document.getElementById("stop");
  const status = document.getElementById("status");
  const transcript = document.getElementById("conversation");
  const errorBox = document.getElementById("chat-error");
  const title = document.getElementById("chat-title");
  const assistantName = document.getElementById("assistant-name");
  const totals = document.getElementById("conversation-totals");
  const renameButton = document.getElementById("rename");
  const deleteButton = document.getElementById("delete");
  const list = document.getElementById("conversation-list");
  const more = document.getElementById("more-conversations");
  const newButton = document.getElementById("new-conversation");

  let current = null; // {id, title, urls, ...}
  let streaming = false;
  let page = 1;
  const assistants = {};

  // -- small helpers --------------------------------------------------------------------------------------
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function money(cost) {
    if (cost === null || cost === undefined) return "";
    const value = Number(cost);
    if (value === 0) return "$0";
    if (value < 0.0001) return "< $0.0001";
    return value >= 1 ? `$${value.toFixed(2)}` : `$${value.toFixed(4)}`;
  }

  function count(n) {
    return Number(n || 0).toLocaleString("en-US");
  }

  function setBusy(busy) {
    streaming = busy;
    send.disabled = busy;
    stop.disabled = !busy;
    renameButton.disabled = busy || !current;
    deleteButton.disabled = !current;
  }

  function showTotals(conv) {
    if (!conv) {
      totals.textContent = "";
      return;
    }
    const usage = conv.usage || {};
    const tokens = (usage.input_tokens || 0) + (usage.output_tokens || 0) + (usage.cache_read_input_tokens || 0)
      + (usage.cache_creation_input_tokens || 0);
    totals.textContent = `${count(conv.message_count)} messages · ${count(tokens)} tokens · ${money(conv.cost)}`;
  }

  function showConversation(conv) {
    current = conv;
    title.textContent = conv ? conv.title || "New conversation" : "New conversation";
    const assistant = conv ? assistants[conv.assistant] : assistants[defaultAssistant];
    assistantName.textContent = assistant ? `${assistant.title} · ${assistant.model}` : "";
    showTotals(conv);
    renameButton.disabled = !conv || streaming;
    deleteButton.disabled = !conv;
    for (const item of list.querySelectorAll("li")) {
      item.classList.toggle("current", Boolean(conv) && item.dataset.id === conv.id);
    }
  }

  // -- the transcript -------------------------------------------------------------------------------------
  function scrollDown(node) {
    node.scrollIntoView({block: "end"});
  }

  function userBubble(text) {
    const bubble = el("div", "bubble user", text);
    transcript.appendChild(bubble);
    scrollDown(bubble);
    return bubble;
  }

  function assistantBubble() {
    const bubble = el("div", "bubble assistant");
    bubble.appendChild(el("span", "text"));
    transcript.appendChild(bubble);
    return bubble;
  }

  function toolCall(name, input) {
    const row = el("div", "tool-call");
    row.appendChild(el("strong", "", `Tool call: ${name}`));
    row.appendChild(document.createTextNode(" "));
    row.appendChild(el("code", "detail", JSON.stringify(input)));
    transcript.appendChild(row);
    scrollDown(row);
    return row;
  }

  function toolResult(content, isError) {
    const row = el("div", isError ? "tool-result failed" : "tool-result");
    row.appendChild(el("strong", "", isError ? "Tool error:" : "Result:"));
    row.appendChild(document.createTextNode(" "));
    const shown = typeof content === "string" ? content : JSON.stringify(content);
    row.appendChild(el("code", "detail", shown));
    transcript.appendChild(row);
    scrollDown(row);
    return row;
  }

  function renderMessage(message) {
    const blocks = message.content || [];
    if (message.role === "user") {
      const results = blocks.filter((b) => b.type === "tool_result");
      if (results.length) {
        for (const block of results) toolResult(block.content, Boolean(block.is_error));
      }
      const text = blocks.filter((b) => b.type === "text").map((b) => b.text).join("");
      if (text) {
        const bubble = userBubble(text);
        if (message.status === "error") bubble.classList.add("unanswered");
      }
      return;
    }
    const text = blocks.filter((b) => b.type === "text").map((b) => b.text).join("");
    if (text || message.status !== "complete") {
      const bubble = assistantBubble();
      bubble.querySelector(".text").textContent = text;
      if (message.status === "partial") bubble.classList.add("stopped");
      if (message.status === "error" && !text) bubble.remove();
    }
    for (const block of blocks) {
      if (block.type === "tool_use") toolCall(block.name, block.input);
    }
  }

  // -- following an answer --------------------------------------------------------------------------------
  async function follow(response) {
    let bubble = null;
    let received = "";
    let ended = null;
    let failure = null;
    await ClaudeDemo.readSSE(response, (name, data) => {
      if (name === "start") {
        bubble = assistantBubble();
        bubble.classList.add("streaming");
        received = "";
      } else if (name === "text") {
        if (!bubble) bubble = assistantBubble();
        received += data.text;
        bubble.querySelector(".text").textContent = received;
        ClaudeDemo.setStatus(status, "streaming", "Streaming…");
        scrollDown(bubble);
      } else if (name === "tool_use") {
        toolCall(data.name, data.input);
      } else if (name === "tool_result") {
        toolResult(data.content, Boolean(data.is_error));
      } else if (name === "done") {
        if (bubble) bubble.classList.remove("streaming");
        if (bubble && !received) bubble.remove();
        bubble = null;
        if (data.conversation) {
          ended = "done";
          showConversation({...current, ...data.conversation});
          refreshList();
        }
      } else if (name === "cancelled") {
        ended = "stopped";
        if (bubble) {
          bubble.classList.remove("streaming");
          bubble.classList.add("stopped");
        }
      } else if (name === "error") {
        ended = "error";
        failure = ClaudeDemo.describeStreamError(data);
        if (bubble && !received) bubble.remove();
        if (bubble) bubble.classList.remove("streaming");
      }
    });
    if (bubble) bubble.classList.remove("streaming");
    if (failure || !ended) {
      ClaudeDemo.showError(errorBox, failure || "The answer stream ended early. Reload to see what was saved.");
      ClaudeDemo.setStatus(status, "error", "Failed");
    } else if (ended === "stopped") {
      ClaudeDemo.setStatus(status, "stopped", "Stopped");
    } else {
      ClaudeDemo.setStatus(status, "done", "Done");
    }
    setBusy(false);
  }

  async function resume(url) {
    setBusy(true);
    ClaudeDemo.setStatus(status, "streaming", "Claude is still answering…");
    try {
      const response = await fetch(url, {headers: {"Accept": "text/event-stream"}, credentials: "same-origin"});
      if (!response.ok) {
        ClaudeDemo.showError(errorBox, ClaudeDemo.describeError(response.status, await ClaudeDemo.readJSON(response)));
        setBusy(false);
        return;
      }
      await follow(response);
    } catch (err) {
      ClaudeDemo.showError(errorBox, `Connection problem: ${err.message}`);
      setBusy(false);
    }
  }

  // -- loading ----------------------------------------------------------------------------------------------
  async function refreshList(append = false) {
    const response = await fetch(`${listUrl}?page=${append ? page + 1 : 1}`, {credentials: "same-origin"});
    if (!response.ok) return;
    const data = await response.json();
    for (const assistant of data.assistants || []) assistants[assistant.name] = assistant;
    if (!append) {
      list.textContent = "";
      page = 1;
    } else {
      page += 1;
    }
    for (const conv of data.conversations) {
      const item = el("li");
      item.dataset.id = conv.id;
      const link = el("a", "", conv.title || "Untitled");
      link.href = `${pageBase}${conv.id}/`;
      item.appendChild(link);
      const tokens = conv.usage.input_tokens + conv.usage.output_tokens + conv.usage.cache_read_input_tokens
        + conv.usage.cache_creation_input_tokens;
      item.appendChild(el("small", "", `${conv.message_count} msgs · ${count(tokens)} tokens · ${money(conv.cost)}`));
      if (current && conv.id === current.id) item.classList.add("current");
      list.appendChild(item);
    }
    more.hidden = !data.has_more;
    if (!current) showConversation(null);
  }

  async function load(id) {
    const response = await fetch(`${listUrl}${id}/`, {credentials: "same-origin"});
    const data = await ClaudeDemo.readJSON(response);
    if (!response.ok) {
      ClaudeDemo.showError(errorBox, ClaudeDemo.describeError(response.status, data));
      return;
    }
    showConversation(data.conversation);
    transcript.textContent = "";
    const active = data.active_turn;
    for (const message of data.messages) {
      if (active && message.turn === active.id && message.id !== active.question_id) continue;
      renderMessage(message);
    }
    if (active) await resume(data.conversation.urls.events);
  }

  // -- actions ------------------------------------------------------------------------------------------------
  async function create() {
    const body = defaultAssistant ? {assistant: defaultAssistant} : {};
    const response = await ClaudeDemo.postJSON(listUrl, body);
    const data = await ClaudeDemo.readJSON(response);
    if (!response.ok) {
      const problem = new Error(ClaudeDemo.describeError(response.status, data));
      problem.readable = true;
      throw problem;
    }
    history.pushState({id: data.conversation.id}, "", `${pageBase}${data.conversation.id}/`);
    showConversation(data.conversation);
    return data.conversation;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (streaming) return;
    ClaudeDemo.showError(errorBox, "");
    const text = prompt.value;
    setBusy(true);
    ClaudeDemo.setStatus(status, "waiting", "Waiting for Claude…");
    let asked = null;
    try {
      const conv = current || (await create());
      asked = userBubble(text);
      const response = await ClaudeDemo.postJSON(conv.urls.messages, {message: text});
      if (!response.ok) {
        asked.remove();
        ClaudeDemo.showError(errorBox, ClaudeDemo.describeError(response.status, await ClaudeDemo.readJSON(response)));
        ClaudeDemo.setStatus(status, "error", "Not sent");
        setBusy(false);
        return;
      }
      prompt.value = "";
      await follow(response);
    } catch (err) {
      if (asked) asked.remove();
      ClaudeDemo.showError(errorBox, err.readable ? err.message : `Connection problem: ${err.message}`);
      ClaudeDemo.setStatus(status, "error", "Failed");
      setBusy(false);
    }
  });

  stop.addEventListener("click", async () => {
    if (!current) return;
    stop.disabled = true;
    ClaudeDemo.setStatus(status, "stopping", "Stopping…");
    await ClaudeDemo.postJSON(current.urls.stop, {});
  });

  renameButton.addEventListener("click", async () => {
    if (!current) return;
    const name = window.prompt("New title", current.title || "");
    if (name === null) return;
    const response = await ClaudeDemo.sendJSON("PATCH", current.urls.detail, {title: name});
    const data = await ClaudeDemo.readJSON(response);
    if (!response.ok) {
      ClaudeDemo.showError(errorBox, ClaudeDemo.describeError(response.status, data));
      return;
    }
    showConversation(data.conversation);
    refreshList();
  });

  deleteButton.addEventListener("click", async () => {
    if (!current || !window.confirm(`Delete "${current.title || "this conversation"}"?`)) return;
    const response = await ClaudeDemo.sendJSON("DELETE", current.urls.detail);
    if (!response.ok) {
      ClaudeDemo.showError(errorBox, ClaudeDemo.describeError(response.status, await ClaudeDemo.readJSON(response)));
      return;
    }
    window.location.href = pageBase;
  });

  newButton.addEventListener("click", () => {
    window.location.href = root.dataset.newUrl || pageBase;
  });
  more.addEventListener("click", () => refreshList(true));
  window.addEventListener("popstate", () => window.location.reload());

  (async () => {
    setBusy(false);
    await refreshList();
    if (root.dataset.conversation) await load(root.dataset.conversation);
  })();
})();
