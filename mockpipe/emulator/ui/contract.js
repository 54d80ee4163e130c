// The Contract view of mockpipe's web UI: the events sent so far (GET /mockpipe/contract), per write key
// (the Write key filter), with their properties and types, and the changes from the server's plan when
// one is loaded. Like app.js, it puts every value from a payload in the page as text, never as HTML.
"use strict";

(() => {
  const REFRESH_MS = 3000; // while the view shows: calls keep arriving
  const $ = (id) => document.getElementById(id);

  function el(tag, className, ...children) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    for (const child of children) {
      if (child == null) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function clearNode(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function writeKey() {
    return $("f-key").value.trim();
  }

  function query(extra) {
    const params = new URLSearchParams(extra);
    const key = writeKey();
    if (key) params.set("writeKey", key);
    const text = params.toString();
    return text ? `/mockpipe/contract?${text}` : "/mockpipe/contract";
  }

  function eventTable(event) {
    const body = el("tbody");
    for (const f of event.fields) {
      const row = el("tr", f.required ? "" : "optional",
        el("td", null, f.path),
        el("td", null, f.types.length ? f.types.join(" | ") : "any"),
        el("td", null, f.format ?? ""),
        el("td", null, f.required ? "always" : "optional"),
        el("td", null, f.seen));
      row.dataset.path = f.path;
      body.append(row);
    }
    const head = el("thead", null, el("tr", null, el("th", null, "Property"), el("th", null, "Type"),
      el("th", null, "Format"), el("th", null, "Sent"), el("th", null, "Values")));
    return el("table", "contract", head, body);
  }

  function renderDiff(diff) {
    const box = $("contract-diff");
    clearNode(box);
    if (!diff) return;
    box.append(el("h3", null, `Against the plan: ${diff.breaking} breaking, ${diff.compatible} compatible change(s)`));
    const list = el("ul", "changes");
    for (const change of diff.changes) list.append(el("li", change.severity, change.line));
    box.append(list);
  }

  function render(data) {
    const events = $("contract-events");
    clearNode(events);
    for (const event of data.events) {
      const title = el("h3", null, `${event.type} `, el("span", null, event.label),
        el("span", "calls", `${event.calls} call(s)`));
      const section = el("section", "contract-event", title,
        event.fields.length ? eventTable(event) : el("p", "empty", "No properties."));
      section.dataset.event = event.label;
      events.append(section);
    }
    renderDiff(data.diff);
    $("contract-empty").hidden = data.events.length > 0;
    const who = data.writeKey ? `write key ${data.writeKey}` : "every write key";
    $("contract-summary").textContent = `${data.events.length} event(s) from ${data.calls} call(s) of ${who}.`;
    $("contract-file").href = query({ format: "yaml" });
  }

  let loads = 0;
  async function load() {
    const mine = ++loads;
    let data;
    try {
      const response = await fetch(query({}), { headers: { Accept: "application/json" } });
      data = await response.json();
      if (!response.ok) throw new Error(data.message ?? String(response.status));
    } catch (error) {
      if (mine === loads) $("contract-summary").textContent = `No contract: ${error.message}`;
      return;
    }
    if (mine === loads) render(data);
  }

  let timer = null;
  function visible() {
    return !$("view-contract").hidden;
  }

  function show(on) {
    $("view-contract").hidden = !on;
    clearInterval(timer);
    timer = null;
    if (on) {
      load();
      timer = setInterval(() => { if (visible()) load(); }, REFRESH_MS);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    // app.js switches the other views; this one shows with its own tab and hides with any other.
    for (const button of document.querySelectorAll("button.tab")) {
      button.addEventListener("click", () => show(button.dataset.tab === "contract"));
    }
    $("contract-refresh").addEventListener("click", load);
    $("f-key").addEventListener("input", () => { if (visible()) load(); });
  });
})();
