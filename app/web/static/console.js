// factvault console. Talks to the same REST API as any client; document text is always
// inserted as text (textContent / text nodes), never as HTML.

const KEY_STORAGE = "factvault.apiKey"; // session storage: gone when the tab closes
const VIEWS = ["ask", "documents", "models", "index"];
const STOPWORDS = new Set(
  ("the a an and or of to in on for is are was were be by with what which who how does do did " +
    "this that it its as at from about into can could would should you we they their our").split(" "),
);

const $ = (selector, root = document) => root.querySelector(selector);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

function formatSeconds(s) {
  return s < 1 ? `${Math.round(s * 1000)} ms` : `${s.toFixed(1)} s`;
}

function formatTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

// ---------------------------------------------------------------- API access

class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

function authHeaders(extra = {}) {
  const headers = { ...extra };
  const key = sessionStorage.getItem(KEY_STORAGE);
  if (key) headers.Authorization = `Bearer ${key}`;
  return headers;
}

async function problem(response) {
  let code = "http_error";
  let detail = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    code = body.code || code;
    detail = body.detail || detail;
  } catch {
    /* not JSON: keep the status line */
  }
  const error = new ApiError(response.status, code, detail);
  if (response.status === 401) askForKey(detail);
  return error;
}

async function api(method, path, body) {
  const init = { method, headers: authHeaders() };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (!response.ok) throw await problem(response);
  return response.status === 204 ? null : response.json();
}

function showNotice(message) {
  const notice = $("#notice");
  notice.textContent = message;
  notice.hidden = !message;
}

function reportError(error) {
  if (error.status === 401) return; // the key panel says it
  const scope = error.status === 403 ? " (this key's scope does not allow it)" : "";
  showNotice(`${error.message}${scope}`);
}

// ---------------------------------------------------------------- API key

function askForKey(reason) {
  const panel = $("#key-panel");
  panel.hidden = false;
  $("#key-toggle").setAttribute("aria-expanded", "true");
  if (reason) $("#key-reason").textContent = `${reason}. The key is kept in this tab only (session storage).`;
  $("#api-key").focus();
}

function setupKeyPanel() {
  const toggle = $("#key-toggle");
  const refreshLabel = () => {
    toggle.textContent = sessionStorage.getItem(KEY_STORAGE) ? "API key (set)" : "API key";
  };
  refreshLabel();
  toggle.addEventListener("click", () => {
    const panel = $("#key-panel");
    panel.hidden = !panel.hidden;
    toggle.setAttribute("aria-expanded", String(!panel.hidden));
    if (!panel.hidden) $("#api-key").focus();
  });
  $("#key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = $("#api-key").value.trim();
    if (key) sessionStorage.setItem(KEY_STORAGE, key);
    $("#api-key").value = "";
    $("#key-panel").hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    refreshLabel();
    showNotice("");
    route();
  });
  $("#key-forget").addEventListener("click", () => {
    sessionStorage.removeItem(KEY_STORAGE);
    refreshLabel();
  });
}

// ---------------------------------------------------------------- views

function route() {
  const name = location.hash.slice(1);
  if (name && !VIEWS.includes(name)) return; // an in-page anchor such as #source-2
  const view = name || "ask";
  for (const v of VIEWS) {
    $(`#view-${v}`).hidden = v !== view;
    const link = $(`nav a[data-view="${v}"]`);
    if (v === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  showNotice("");
  const loaders = { documents: loadDocuments, models: loadModels, index: loadIndex };
  if (loaders[view]) loaders[view]().catch(reportError);
  refreshActiveModel();
}

async function refreshActiveModel() {
  try {
    const models = await api("GET", "/v1/models");
    $("#active-model").textContent = `model: ${models.active || "none"}`;
    return models;
  } catch {
    $("#active-model").textContent = "model: ?";
    return null;
  }
}

// ---------------------------------------------------------------- Ask

function questionTerms(question) {
  const words = question.toLowerCase().match(/[\p{L}\p{N}_]{3,}/gu) || [];
  return [...new Set(words.filter((w) => !STOPWORDS.has(w)))];
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// The chunk's text with the question's words marked, built from text nodes only.
function highlighted(text, terms) {
  const fragment = document.createDocumentFragment();
  if (!terms.length) {
    fragment.append(text);
    return fragment;
  }
  const pattern = new RegExp(`(${terms.map(escapeRegExp).join("|")})`, "giu");
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    fragment.append(text.slice(last, match.index), el("mark", { text: match[0] }));
    last = match.index + match[0].length;
  }
  fragment.append(text.slice(last));
  return fragment;
}

// The answer with each [n] turned into a link to cited source n.
function answerWithLinks(text, cited) {
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(/\[(\d+)\]/g)) {
    const n = Number(match[1]);
    fragment.append(text.slice(last, match.index));
    if (cited.has(n)) {
      fragment.append(
        el("a", {
          class: "cite", href: `#source-${n}`, text: `[${n}]`,
          "aria-label": `source ${n}`,
          onclick: (event) => {
            event.preventDefault();
            focusSource(n);
          },
        }),
      );
    } else {
      fragment.append(match[0]);
    }
    last = match.index + match[0].length;
  }
  fragment.append(text.slice(last));
  return fragment;
}

function focusSource(n) {
  const item = document.getElementById(`source-${n}`);
  if (!item) return;
  for (const other of document.querySelectorAll(".sources li.flash")) other.classList.remove("flash");
  item.classList.add("flash");
  item.scrollIntoView({ block: "nearest" });
  item.focus();
}

function renderSources(citations, terms) {
  const list = $("#sources");
  list.replaceChildren();
  for (const c of citations) {
    const where = [`document ${c.document}`, `characters ${c.span[0]}–${c.span[1]}`];
    if (c.page) where.push(`page ${c.page}`);
    where.push(`score ${c.score.toFixed(3)}`);
    list.append(
      el(
        "li", { id: `source-${c.n}`, tabindex: "-1", "data-chunk": c.chunk_id },
        el("div", { class: "source-head", text: `[${c.n}] ${c.title || c.source}` }),
        el("div", { class: "source-where", text: `${c.source} · ${where.join(" · ")}` }),
        el("blockquote", { class: "source-text" }, highlighted(c.text, terms)),
      ),
    );
  }
  $("#sources-heading").hidden = citations.length === 0;
}

function renderMeta(done) {
  const t = done.timings || {};
  const parts = [`Answered by ${done.model.name} (sha256 ${done.model.sha256.slice(0, 12)})`];
  for (const [key, label] of [["retrieve", "retrieve"], ["queue", "queue"],
    ["first_token", "first token"], ["generate", "generate"], ["total", "total"]]) {
    if (typeof t[key] === "number") parts.push(`${label} ${formatSeconds(t[key])}`);
  }
  $("#answer-meta").textContent = parts.join(" · ");
}

// Parses a text/event-stream body: yields {event, data} as blocks complete.
async function* sseEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
      }
      if (data.length) yield { event, data: JSON.parse(data.join("\n")) };
    }
  }
}

// ---------------------------------------------------------------- Conversations
// The Ask view is a thread: earlier turns stacked above, the latest in #answer. Questions go
// to the current conversation; follow-ups are answered with its history.

let conversation = null; // the current conversation's id, made on the first question
let lastTurn = null; // the turn shown in #answer, moved up into the thread on the next one

function turnItem(turn) {
  const sources = [...new Set(turn.citations.map((c) => c.source))].join(", ");
  const meta = [`model ${turn.model.name}`];
  if (sources) meta.push(`sources: ${sources}`);
  const item = el(
    "li", { "data-turn": String(turn.turn) },
    el("div", { class: "turn-question", text: turn.question }),
    el("div", { class: "turn-answer", text: turn.answer }),
  );
  if (turn.standalone_question && turn.standalone_question !== turn.question) {
    item.append(el("div", { class: "turn-meta", text: `searched for: ${turn.standalone_question}` }));
  }
  item.append(el("div", { class: "turn-meta", text: meta.join(" · ") }));
  return item;
}

function clearAnswer() {
  $("#answer").hidden = true;
  $("#answer-text").textContent = "";
  $("#answer-meta").textContent = "";
  $("#answer-rewrite").hidden = true;
  $("#sources").replaceChildren();
  lastTurn = null;
}

function newConversation() {
  conversation = null;
  $("#thread").replaceChildren();
  clearAnswer();
  $("#conversation-list").value = "";
}

async function loadConversations() {
  const body = await api("GET", "/v1/conversations");
  const list = $("#conversation-list");
  list.replaceChildren(el("option", { value: "", text: body.conversations.length ? "(choose)" : "(none yet)" }));
  for (const c of body.conversations) {
    const label = `${c.title || "(empty)"} · ${c.turns} turn${c.turns === 1 ? "" : "s"}`;
    list.append(el("option", { value: c.id, text: label }));
  }
  if (conversation) list.value = conversation;
}

async function openConversation(id) {
  if (!id) return newConversation();
  const body = await api("GET", `/v1/conversations/${encodeURIComponent(id)}`);
  conversation = body.id;
  clearAnswer();
  $("#thread").replaceChildren(...body.turns.map(turnItem));
}

function setupConversations() {
  $("#new-conversation").addEventListener("click", () => {
    newConversation();
    $("#question").focus();
  });
  // Listed when looked at (not on page load: with auth on, the key may not be entered yet).
  $("#conversation-list").addEventListener("focus", () => loadConversations().catch(reportError));
  $("#conversation-list").addEventListener("change", (event) => {
    openConversation(event.target.value).catch(reportError);
  });
}

async function ask(question) {
  const text = $("#answer-text");
  const button = $("#ask-button");
  if (lastTurn) $("#thread").append(turnItem(lastTurn));
  lastTurn = null;
  $("#answer-rewrite").hidden = true;
  $("#answer").hidden = false;
  $("#answer-note").hidden = true;
  $("#answer-meta").textContent = "Retrieving sources and waiting for the model…";
  $("#sources").replaceChildren();
  $("#sources-heading").hidden = true;
  text.textContent = "";
  text.setAttribute("aria-busy", "true");
  button.disabled = true;
  try {
    if (!conversation) conversation = (await api("POST", "/v1/conversations")).id;
    const response = await fetch(`/v1/conversations/${conversation}/messages`, {
      method: "POST",
      headers: authHeaders({ "Content-Type": "application/json", Accept: "text/event-stream" }),
      body: JSON.stringify({ question, stream: true }),
    });
    if (!response.ok) throw await problem(response);
    for await (const { event, data } of sseEvents(response)) {
      if (event === "token") {
        text.append(data.text);
      } else if (event === "done") {
        const cited = new Set(data.citations.map((c) => c.n));
        text.replaceChildren(answerWithLinks(data.answer, cited));
        if (!data.grounded) {
          $("#answer-note").textContent =
            "The model's reply cited no source, so it was withheld.";
          $("#answer-note").hidden = false;
        } else if (data.finish_reason && data.finish_reason !== "stop") {
          $("#answer-note").textContent =
            `The reply was cut short (${data.finish_reason.replace("_", " ")}): ` +
            "only its finished sentences are shown.";
          $("#answer-note").hidden = false;
        } else if (data.links_removed > 0) {
          $("#answer-note").textContent =
            `${data.links_removed} link(s) to hosts outside the allow-list were removed.`;
          $("#answer-note").hidden = false;
        }
        renderSources(data.citations, questionTerms(question));
        renderMeta(data);
        if (data.rewritten) {
          $("#answer-rewrite").textContent = `searched for: ${data.standalone_question}`;
          $("#answer-rewrite").hidden = false;
        }
        lastTurn = {
          turn: data.turn, question, answer: data.answer, citations: data.citations,
          model: data.model, standalone_question: data.standalone_question,
        };
        loadConversations().catch(reportError);
        $("#active-model").textContent = `model: ${data.model.name}`;
      } else if (event === "error") {
        throw new ApiError(500, data.code, data.detail);
      }
    }
  } catch (error) {
    $("#answer-meta").textContent = "";
    reportError(error);
  } finally {
    text.setAttribute("aria-busy", "false");
    button.disabled = false;
  }
}

function setupAsk() {
  const form = $("#ask-form");
  const box = $("#question");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const question = box.value.trim();
    if (question) ask(question);
  });
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
}

// ---------------------------------------------------------------- Documents

async function loadDocuments() {
  const docs = await api("GET", "/v1/documents");
  const body = $("#documents-table tbody");
  body.replaceChildren();
  for (const d of docs) {
    body.append(
      el(
        "tr", { "data-document": d.id },
        el("td", { class: "source" }, el("div", { text: d.title || d.source }),
          d.title ? el("div", { class: "help", text: d.source }) : null),
        el("td", { text: d.collection }),
        el("td", { text: d.status }),
        el("td", { class: "num", text: String(d.chunk_count) }),
        el("td", { class: "num", text: formatBytes(d.size_bytes) }),
        el("td", { text: formatTime(d.updated_at) }),
        el("td", {}, el("button", {
          type: "button", class: "danger", text: "Delete",
          "aria-label": `Delete ${d.source}`,
          onclick: () => deleteDocument(d),
        })),
      ),
    );
  }
  $("#documents-caption").textContent =
    `Stored documents (${docs.length}, ${docs.reduce((n, d) => n + d.chunk_count, 0)} chunks)`;
}

async function deleteDocument(doc) {
  if (!window.confirm(`Delete ${doc.source} and its ${doc.chunk_count} chunks?`)) return;
  try {
    await api("DELETE", `/v1/documents/${doc.id}`);
    showNotice("");
  } catch (error) {
    reportError(error);
  }
  await loadDocuments().catch(reportError);
}

// One request per file, so each has its own progress bar and its own outcome.
function uploadOne(file, row) {
  return new Promise((resolve) => {
    const bar = $("progress", row);
    const result = $(".result", row);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/v1/documents");
    for (const [name, value] of Object.entries(authHeaders())) xhr.setRequestHeader(name, value);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) {
        bar.value = Math.round((100 * event.loaded) / event.total);
        result.textContent = `Uploading… ${bar.value}%`;
      }
    });
    xhr.upload.addEventListener("load", () => {
      bar.value = 100;
      result.textContent = "Uploaded; chunking and embedding…";
    });
    const finish = (ok, message) => {
      result.textContent = message;
      result.className = `result ${ok ? "ok" : "failed"}`;
      row.dataset.outcome = ok ? "stored" : "failed";
      resolve(ok);
    };
    xhr.addEventListener("load", () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        /* not JSON */
      }
      if (xhr.status === 201 && body) {
        if (body.failed.length) {
          finish(false, `Failed: ${body.failed[0].reason}`);
        } else {
          const doc = body.documents[0];
          const what = body.new ? "new" : body.changed ? "changed" : "unchanged";
          finish(true, `Stored (${what}): ${doc ? doc.chunk_count : 0} chunk${doc && doc.chunk_count === 1 ? "" : "s"}`);
        }
      } else {
        if (xhr.status === 401) askForKey(body && body.detail);
        finish(false, `Failed: ${(body && body.detail) || `HTTP ${xhr.status}`}`);
      }
    });
    xhr.addEventListener("error", () => finish(false, "Failed: the connection was lost"));
    const form = new FormData();
    form.append("files", file, file.name);
    xhr.send(form);
  });
}

async function uploadFiles(files) {
  const list = $("#uploads");
  const rows = [...files].map((file) => {
    const row = el(
      "li", { "data-file": file.name },
      el("span", { class: "name", text: `${file.name} (${formatBytes(file.size)})` }),
      el("progress", { max: "100", value: "0", "aria-label": `Upload of ${file.name}` }),
      el("span", { class: "result", role: "status", text: "Waiting…" }),
    );
    list.prepend(row);
    return [file, row];
  });
  for (const [file, row] of rows) await uploadOne(file, row); // the server ingests one at a time anyway
  await loadDocuments().catch(reportError);
}

function setupDocuments() {
  const zone = $("#dropzone");
  const input = $("#file-input");
  input.addEventListener("change", () => {
    if (input.files.length) uploadFiles(input.files);
    input.value = "";
  });
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    if (event.dataTransfer.files.length) uploadFiles(event.dataTransfer.files);
  });
}

// ---------------------------------------------------------------- Models

let swapPending = false;

async function loadModels() {
  const models = await api("GET", "/v1/models");
  const body = $("#models-table tbody");
  body.replaceChildren();
  for (const m of models.data) {
    const name = el("td", {}, m.name);
    if (m.active) name.append(el("span", { class: "badge", text: "active" }));
    body.append(
      el(
        "tr", { "data-model": m.name, "aria-current": m.active ? "true" : null },
        name,
        el("td", { class: "wide-only", text: m.architecture }),
        el("td", { class: "num", text: formatBytes(m.size_bytes) }),
        el("td", { class: "num wide-only", text: m.context_length ? String(m.context_length) : "?" }),
        el("td", {}, el("code", { title: m.sha256, text: m.sha256.slice(0, 16) })),
        el("td", {}, el("button", {
          type: "button", class: m.active ? "secondary" : null,
          text: m.active ? "Active" : "Activate",
          disabled: m.active || swapPending,
          "aria-label": m.active ? `${m.name} is active` : `Activate ${m.name}`,
          onclick: () => activateModel(m.name),
        })),
      ),
    );
  }
  $("#active-model").textContent = `model: ${models.active || "none"}`;
  return models;
}

function showSwap(swap) {
  const box = $("#swap-status");
  box.hidden = false;
  const progress = $("#swap-progress");
  const phases = {
    verifying: "checking its sha256",
    loading: "loading it beside the current model",
    switching: "switching",
  };
  if (swap.phase in phases) {
    progress.removeAttribute("value"); // indeterminate while it runs
    const from = swap.previous ? ` (${swap.previous} keeps answering)` : "";
    $("#swap-text").textContent =
      `Activating ${swap.target}: ${phases[swap.phase]}${from} · ${formatSeconds(swap.seconds || 0)}`;
  } else if (swap.phase === "done") {
    progress.max = 1;
    progress.value = 1;
    $("#swap-text").textContent = `Now answering with ${swap.target} (swap took ${formatSeconds(swap.seconds || 0)})`;
  } else if (swap.phase === "failed") {
    progress.max = 1;
    progress.value = 0;
    $("#swap-text").textContent = `Could not activate ${swap.target}: ${swap.error}. ${swap.previous || "The current model"} is still active.`;
  }
  box.dataset.phase = swap.phase;
}

async function activateModel(name) {
  swapPending = true;
  showSwap({ phase: "verifying", target: name, seconds: 0 });
  for (const button of document.querySelectorAll("#models-table button")) button.disabled = true;
  const watcher = setInterval(async () => {
    try {
      const models = await api("GET", "/v1/models");
      if (swapPending && models.swap && models.swap.target === name) showSwap(models.swap);
    } catch {
      /* the PUT's own outcome is reported below */
    }
  }, 300);
  try {
    await api("PUT", "/v1/models/active", { name });
  } catch (error) {
    reportError(error);
  } finally {
    clearInterval(watcher);
    swapPending = false;
  }
  const models = await loadModels().catch(reportError);
  if (models && models.swap && models.swap.target === name) showSwap(models.swap);
}

// ---------------------------------------------------------------- Index

function fact(list, term, value) {
  list.append(el("dt", { text: term }), el("dd", { text: value }));
}

async function loadIndex() {
  const index = await api("GET", "/v1/index");
  const facts = $("#index-summary");
  facts.replaceChildren();
  const a = index.active;
  if (a) {
    fact(facts, "Active version", a.collection);
    fact(facts, "Embedder", `${a.embedding_model} (${a.dimension} dimensions, sha256 ${a.embedding_sha256.slice(0, 12)})`);
    fact(facts, "Created", formatTime(a.created_at));
  } else {
    fact(facts, "Active version", "none yet: upload a document");
  }
  const c = index.counts;
  fact(facts, "Documents", String(c.documents));
  fact(facts, "Chunks (SQL)", String(c.chunks));
  fact(facts, "Points (vector store)", String(c.points));
  if (index.reindex && index.reindex.state && index.reindex.state !== "idle") {
    const r = index.reindex;
    const detail = r.state === "failed" ? `: ${r.error}` : ` (${r.done}/${r.total} chunks)`;
    fact(facts, "Last reindex", `${r.state}, to ${r.embedder}${detail}`);
  }
  const versions = $("#versions-table tbody");
  versions.replaceChildren();
  for (const v of index.versions) {
    versions.append(el("tr", {},
      el("td", {}, el("code", { text: v.collection })),
      el("td", { text: v.status }),
      el("td", { text: v.embedding_model }),
      el("td", { class: "num", text: v.chunk_count === null ? "?" : String(v.chunk_count) }),
      el("td", { class: "wide-only", text: formatTime(v.created_at) })));
  }
  const table = $("#eval-table");
  const rows = $("#eval-table tbody");
  rows.replaceChildren();
  const summary = index.eval;
  $("#eval-empty").hidden = Boolean(summary);
  table.hidden = !summary;
  $("#eval-source").hidden = !summary;
  if (!summary) return;
  $("#eval-source").textContent =
    `${summary.queries} queries from ${summary.queries_file}; updated ${formatTime(summary.updated_at)}.`;
  summary.rows.forEach((r, i) => {
    const pct = (x) => (100 * x).toFixed(2);
    rows.append(el("tr", { class: i === 0 ? "best" : null },
      el("td", {}, el("div", { text: r.config }), el("div", { class: "help", text: r.describe })),
      el("td", { class: "num", text: pct(r["pass@5"]) }),
      el("td", { class: "num", text: pct(r["pass@10"]) }),
      el("td", { class: "num", text: pct(r["pass@20"]) }),
      el("td", { class: "num", text: r.mrr.toFixed(3) }),
      el("td", { class: "num", text: String(r.ms_per_query) })));
  });
}

// ---------------------------------------------------------------- start

setupKeyPanel();
setupAsk();
setupConversations();
setupDocuments();
window.addEventListener("hashchange", route);
route();
