/* The tool-use page: the server runs the tool loop; the page lists each step (call, result) and the answer. */
"use strict";

(() => {
  const form = document.getElementById("tool-form");
  const prompt = document.getElementById("tool-prompt");
  const model = document.getElementById("tool-model");
  const run = document.getElementById("tool-run");
  const status = document.getElementById("tool-status");
  const steps = document.getElementById("tool-steps");
  const answer = document.getElementById("tool-answer");
  const errorBox = document.getElementById("tool-error");

  function step(kind, title, detail) {
    const li = document.createElement("li");
    li.className = `step ${kind}`;
    const head = document.createElement("strong");
    head.textContent = title;
    li.appendChild(head);
    if (detail !== undefined) {
      const code = document.createElement("code");
      code.className = "detail";
      code.textContent = detail;
      li.appendChild(document.createTextNode(" "));
      li.appendChild(code);
    }
    steps.appendChild(li);
  }

  function show(list) {
    for (const item of list || []) {
      if (item.type === "text") step("text", "Claude:", item.text);
      else if (item.type === "tool_call") step("tool-call", `Tool call: ${item.name}`, JSON.stringify(item.input));
      else if (item.type === "tool_result") step(item.is_error ? "tool-result failed" : "tool-result", "Result:", item.content);
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    ClaudeDemo.showError(errorBox, "");
    steps.textContent = "";
    answer.hidden = true;
    run.disabled = true;
    ClaudeDemo.setStatus(status, "running", "Thinking…");
    try {
      const response = await ClaudeDemo.postJSON(form.dataset.url, {prompt: prompt.value, model: model.value});
      const payload = await ClaudeDemo.readJSON(response);
      if (!response.ok) {
        show(payload && payload.steps);
        ClaudeDemo.showError(errorBox, ClaudeDemo.describeError(response.status, payload));
        ClaudeDemo.setStatus(status, "error", "Failed");
        return;
      }
      show(payload.steps);
      answer.textContent = payload.answer;
      answer.hidden = false;
      ClaudeDemo.setStatus(status, "done", "Done");
    } catch (err) {
      ClaudeDemo.showError(errorBox, `Connection problem: ${err.message}`);
      ClaudeDemo.setStatus(status, "error", "Failed");
    } finally {
      run.disabled = false;
    }
  });
})();
