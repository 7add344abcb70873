/* The long-task page: start a background job, follow its events with EventSource, survive reloads.

The job id lives in the URL (?job=...) and in localStorage, together with the text received so far and the id of
the last event it contained (saved in one write, so they always agree). After a reload the page shows that text
and asks the events endpoint for what came after that id: nothing is lost and nothing is repeated. */
"use strict";

(() => {
  const form = document.getElementById("job-form");
  const prompt = document.getElementById("job-prompt");
  const model = document.getElementById("job-model");
  const startButton = document.getElementById("job-start");
  const cancelButton = document.getElementById("job-cancel");
  const newButton = document.getElementById("job-new");
  const status = document.getElementById("job-status");
  const output = document.getElementById("job-output");
  const shownPrompt = document.getElementById("job-prompt-shown");
  const jobIdLine = document.getElementById("job-id");
  const errorBox = document.getElementById("job-error");
  const CURRENT = "claude-web-demo:current-job";
  const PREFIX = "claude-web-demo:job:";
  let job = null;
  let source = null;
  let leaving = false;

  window.addEventListener("pagehide", () => {  // a reload or navigation closes the stream: that is not an error
    leaving = true;
    if (source) source.close();
  });

  const urlFor = (template, id) => template.replace("__job__", encodeURIComponent(id));

  function save() {
    localStorage.setItem(PREFIX + job.id, JSON.stringify(job));
    localStorage.setItem(CURRENT, job.id);
  }

  function render() {
    output.textContent = job ? job.text : "";
    shownPrompt.hidden = !(job && job.prompt);
    shownPrompt.textContent = job && job.prompt ? job.prompt : "";
    jobIdLine.textContent = job ? `Job ${job.id}` : "";
    const running = Boolean(job && !job.finished);
    startButton.disabled = running;
    cancelButton.disabled = !running;
    newButton.hidden = !(job && job.finished);
  }

  function end(state, label) {
    if (source) source.close();
    source = null;
    job.finished = state;
    save();
    ClaudeDemo.setStatus(status, state, label);
    render();
  }

  function follow() {
    const base = urlFor(form.dataset.eventsTemplate, job.id);
    const url = job.lastEventId ? `${base}?last_event_id=${encodeURIComponent(job.lastEventId)}` : base;
    source = new EventSource(url);
    ClaudeDemo.setStatus(status, "running", job.lastEventId ? "Resumed, streaming…" : "Running…");
    const remember = (event) => {
      if (event.lastEventId) job.lastEventId = event.lastEventId;
    };
    source.addEventListener("text", (event) => {
      job.text += JSON.parse(event.data).text;
      remember(event);
      save();
      output.textContent = job.text;
    });
    source.addEventListener("reset", (event) => {  // the job was retried from scratch: drop the partial text
      job.text = "";
      remember(event);
      save();
      output.textContent = "";
    });
    source.addEventListener("done", (event) => {
      remember(event);
      end("done", "Done");
    });
    source.addEventListener("cancelled", (event) => {
      remember(event);
      end("cancelled", "Cancelled");
    });
    source.addEventListener("error", (event) => {
      if (event.data) {  // the job's own final "error" event
        remember(event);
        ClaudeDemo.showError(errorBox, ClaudeDemo.describeStreamError(JSON.parse(event.data)));
        end("error", "Failed");
      } else if (leaving) {
        return;
      } else if (source && source.readyState === EventSource.CLOSED) {
        source = null;
        recheck();
      } else {
        ClaudeDemo.setStatus(status, "reconnecting", "Connection lost, reconnecting…");
      }
    });
  }

  /* The browser gave up on the stream (an HTTP error): ask for the job's status before declaring it gone. */
  async function recheck() {
    let response = null;
    try {
      response = await fetch(urlFor(form.dataset.statusTemplate, job.id), {credentials: "same-origin"});
    } catch (_) {
      response = null;
    }
    if (response && response.status === 404) {
      ClaudeDemo.showError(errorBox, "This task is no longer available (it expired or belongs to someone else).");
      end("error", "Unavailable");
      return;
    }
    ClaudeDemo.setStatus(status, "reconnecting", "Connection lost, reconnecting…");
    setTimeout(() => {
      if (!leaving && job && !job.finished && !source) follow();
    }, 2000);
  }

  function load(id) {
    const stored = localStorage.getItem(PREFIX + id);
    job = stored ? JSON.parse(stored) : {id, text: "", lastEventId: null, prompt: "", finished: null};
    const url = new URL(window.location.href);
    if (url.searchParams.get("job") !== id) {
      url.searchParams.set("job", id);
      history.replaceState(null, "", url);
    }
    render();
    if (job.finished) {
      ClaudeDemo.setStatus(status, job.finished, job.finished === "done" ? "Done" : job.finished);
    } else {
      follow();
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    ClaudeDemo.showError(errorBox, "");
    startButton.disabled = true;
    ClaudeDemo.setStatus(status, "starting", "Starting…");
    const body = {messages: [{role: "user", content: prompt.value}], model: model.value};
    let response;
    try {
      response = await ClaudeDemo.postJSON(form.dataset.startUrl, body);
    } catch (err) {
      ClaudeDemo.showError(errorBox, `Connection problem: ${err.message}`);
      ClaudeDemo.setStatus(status, "error", "Not started");
      startButton.disabled = false;
      return;
    }
    const payload = await ClaudeDemo.readJSON(response);
    if (response.status !== 202 || !payload || !payload.job_id) {
      ClaudeDemo.showError(errorBox, ClaudeDemo.describeError(response.status, payload));
      ClaudeDemo.setStatus(status, "error", "Not started");
      startButton.disabled = false;
      return;
    }
    job = {id: payload.job_id, text: "", lastEventId: null, prompt: prompt.value, finished: null};
    save();
    load(job.id);
  });

  cancelButton.addEventListener("click", async () => {
    if (!job) return;
    cancelButton.disabled = true;
    const response = await ClaudeDemo.postJSON(urlFor(form.dataset.cancelTemplate, job.id), {});
    if (!response.ok) {
      ClaudeDemo.showError(errorBox, ClaudeDemo.describeError(response.status, await ClaudeDemo.readJSON(response)));
    }
  });

  newButton.addEventListener("click", () => {
    if (source) source.close();
    source = null;
    if (job) localStorage.removeItem(PREFIX + job.id);
    localStorage.removeItem(CURRENT);
    job = null;
    const url = new URL(window.location.href);
    url.searchParams.delete("job");
    history.replaceState(null, "", url);
    ClaudeDemo.showError(errorBox, "");
    ClaudeDemo.setStatus(status, "idle", "No task yet");
    render();
  });

  const fromUrl = new URL(window.location.href).searchParams.get("job");
  const current = fromUrl || localStorage.getItem(CURRENT);
  if (current) load(current);
})();
