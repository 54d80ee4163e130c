// mockpipe's web UI: a live view of the journal over Server-Sent Events.
// Every value that comes from a payload is put in the page as text (textContent, text nodes,
// dataset); nothing here parses HTML, and the server's Content-Security-Policy forbids inline scripts.
"use strict";

(() => {
  const MAX_CALLS = 2000; // kept in the page; older ones stay in the journal (GET /mockpipe/calls)
  const MAX_ROWS = 500; // rendered at once
  const PEOPLE_PAGE = 100; // people asked for at a time ("Show more" asks for the next page)
  const MAX_PEOPLE = 1000; // people kept in the page: the filters narrow the rest
  const TYPES = ["identify", "track", "page", "screen", "group", "alias"];

  const state = {
    calls: [], // summaries, oldest first
    rejected: [],
    counts: {}, // writeKey -> type -> count
    tab: "calls",
    selected: null, // {kind, id}
    keys: new Set(),
    people: [], // summaries of the pages loaded, oldest first
    peopleNext: null, // the cursor of the next page, null after the last one
    peopleTotal: 0,
    peopleQuery: null, // the filters the loaded people answer
  };

  const $ = (id) => document.getElementById(id);

  // -- building DOM without HTML -------------------------------------------------------------

  function el(tag, options, ...children) {
    const node = document.createElement(tag);
    if (options) {
      if (options.className) node.className = options.className;
      if (options.title != null) node.title = String(options.title);
      if (options.data) for (const [k, v] of Object.entries(options.data)) node.dataset[k] = String(v);
      if (options.onclick) node.addEventListener("click", options.onclick);
      if (options.type) node.type = options.type;
    }
    for (const child of children) {
      if (child == null) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function clearNode(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function shortTime(text) {
    if (typeof text !== "string") return "";
    const t = text.indexOf("T");
    return t >= 0 ? text.slice(t + 1).replace("Z", "") : text;
  }

  // -- filters ---------------------------------------------------------------------------------

  function filters() {
    return {
      key: $("f-key").value.trim(),
      type: $("f-type").value,
      name: $("f-name").value.trim().toLowerCase(),
      user: $("f-user").value.trim(),
      valid: $("f-valid").value,
    };
  }

  function keyMatches(f, key) {
    return !f.key || (key != null && String(key).includes(f.key));
  }

  function callMatches(f, c) {
    if (!keyMatches(f, c.writeKey)) return false;
    if (f.type && c.type !== f.type) return false;
    if (f.name) {
      const label = `${c.event ?? ""}\u0000${c.name ?? ""}\u0000${c.displayName ?? ""}`.toLowerCase();
      if (!label.includes(f.name)) return false;
    }
    if (f.user && !String(c.userId ?? "").includes(f.user) && !String(c.anonymousId ?? "").includes(f.user)) {
      return false;
    }
    if (f.valid && String(c.valid) !== f.valid) return false;
    return true;
  }

  // -- rendering -------------------------------------------------------------------------------

  let renderPending = false;
  function scheduleRender() {
    if (renderPending) return;
    renderPending = true;
    requestAnimationFrame(() => {
      renderPending = false;
      render();
    });
  }

  function render() {
    const f = filters();
    renderCounts(f);
    renderKeys();
    $("calls-count").textContent = String(state.calls.length);
    $("rejected-count").textContent = String(state.rejected.length);
    renderCalls(f);
    renderRejected(f);
    $("clear").textContent = f.key && state.keys.has(f.key) ? `Clear key ${f.key}` : "Clear all";
  }

  function renderCounts(f) {
    const totals = Object.fromEntries(TYPES.map((t) => [t, 0]));
    for (const [key, byType] of Object.entries(state.counts)) {
      if (!keyMatches(f, key)) continue;
      for (const [type, n] of Object.entries(byType)) totals[type] = (totals[type] ?? 0) + n;
    }
    const box = $("counts");
    clearNode(box);
    for (const [type, n] of Object.entries(totals)) {
      const chip = el("button", {
        type: "button",
        className: `count type-${TYPES.includes(type) ? type : "other"}${f.type === type ? " active" : ""}`,
        data: { type },
        title: `show only ${type} calls`,
        onclick: () => {
          $("f-type").value = $("f-type").value === type ? "" : type;
          scheduleRender();
        },
      }, el("span", { className: "count-type" }, type), " ", el("span", { className: "count-n" }, n));
      box.append(chip);
    }
  }

  function renderKeys() {
    const list = $("keys");
    if (list.childElementCount === state.keys.size) return;
    clearNode(list);
    for (const key of [...state.keys].sort()) {
      const option = document.createElement("option");
      option.value = key;
      list.append(option);
    }
  }

  function statusCell(c) {
    const cell = el("td", { className: "status-cell" });
    if (!c.accepted) cell.append(el("span", { className: "badge rejected" }, "rejected"));
    cell.append(c.valid
      ? el("span", { className: "badge ok" }, "valid")
      : el("span", { className: "badge error" }, `${c.errors} error${c.errors === 1 ? "" : "s"}`));
    if (c.warnings) cell.append(el("span", { className: "badge warning" }, `${c.warnings} warning${c.warnings === 1 ? "" : "s"}`));
    if (c.duplicateOf != null) cell.append(el("span", { className: "badge dup", title: `resend of call ${c.duplicateOf}` }, "duplicate"));
    return cell;
  }

  function renderCalls(f) {
    const body = $("calls").tBodies[0];
    clearNode(body);
    let shown = 0;
    for (let i = state.calls.length - 1; i >= 0 && shown < MAX_ROWS; i--) {
      const c = state.calls[i];
      if (!callMatches(f, c)) continue;
      shown++;
      const selected = state.selected && state.selected.kind === "call" && state.selected.id === c.id;
      const row = el("tr", {
        className: `call${c.valid ? "" : " invalid"}${selected ? " selected" : ""}`,
        data: { id: c.id, type: c.type },
        onclick: () => selectCall(c.id),
      },
      el("td", { className: "num" }, c.id),
      el("td", { title: c.receivedAt }, shortTime(c.receivedAt)),
      el("td", { className: "key", title: c.writeKey }, c.writeKey),
      el("td", null, el("span", { className: `type type-${c.type}` }, c.type)),
      el("td", { className: "name", title: c.event ?? c.name ?? c.displayName }, c.event ?? c.name ?? c.displayName ?? ""),
      el("td", { className: "user", title: c.userId ?? c.anonymousId }, c.userId ?? (c.anonymousId != null ? `anon ${c.anonymousId}` : "")),
      statusCell(c));
      body.append(row);
    }
    $("calls-empty").hidden = shown > 0;
    $("calls-empty").textContent = state.calls.length ? "No call matches the filters." : "No calls yet. Send one to /v1/track.";
  }

  function renderRejected(f) {
    const body = $("rejected").tBodies[0];
    clearNode(body);
    let shown = 0;
    for (let i = state.rejected.length - 1; i >= 0 && shown < MAX_ROWS; i--) {
      const r = state.rejected[i];
      if (!keyMatches(f, r.writeKey)) continue;
      shown++;
      const selected = state.selected && state.selected.kind === "request" && state.selected.id === r.id;
      body.append(el("tr", { className: `request${selected ? " selected" : ""}`, data: { id: r.id }, onclick: () => selectRequest(r.id) },
        el("td", { className: "num" }, r.id),
        el("td", { title: r.receivedAt }, shortTime(r.receivedAt)),
        el("td", null, `${r.method} ${r.path}`),
        el("td", { className: "key" }, r.writeKey ?? "—"),
        el("td", null, el("span", { className: r.status >= 400 ? "badge error" : "badge warning" }, r.status)),
        el("td", { className: "reason" }, r.reason ?? ""),
        el("td", { className: "message" }, r.message ?? "")));
    }
    $("rejected-empty").hidden = shown > 0;
  }

  // -- JSON with violations at their JSON pointers ---------------------------------------------

  // The tracking-plan rule a plan violation came from: "rule in file#place (format), schema /path".
  function planReference(plan) {
    let text = String(plan.rule ?? plan.event ?? "?");
    if (plan.file) text += ` in ${plan.file}${plan.place ? "#" + plan.place : ""}`;
    else if (plan.place) text += ` at ${plan.place}`;
    if (plan.format) text += ` (${plan.format})`;
    if (plan.schema_path) text += `, schema ${plan.schema_path}`;
    return text;
  }

  function planNote(v) {
    // Text nodes only (el escapes): plan files and rule names come from users.
    return v.plan ? el("span", { className: "plan", title: "tracking plan rule" }, ` [plan: ${planReference(v.plan)}]`) : null;
  }

  function pointerPart(key) {
    return String(key).replace(/~/g, "~0").replace(/\//g, "~1");
  }

  function renderJSON(value, violations) {
    const byPath = new Map();
    for (const v of violations) {
      if (!byPath.has(v.path)) byPath.set(v.path, []);
      byPath.get(v.path).push(v);
    }
    const nodes = new Map(); // pointer -> line element
    const root = el("pre", { className: "json" });

    function line(depth, pointer, parts) {
      const node = el("div", { className: "line", data: { pointer } }, "  ".repeat(depth), ...parts);
      nodes.set(pointer, node);
      return node;
    }

    function scalar(v) {
      const kind = v === null ? "null" : typeof v;
      return el("span", { className: `j-${kind}` }, JSON.stringify(v));
    }

    function walk(v, pointer, depth, label, comma) {
      const head = label == null ? [] : [el("span", { className: "j-key" }, JSON.stringify(label)), ": "];
      const tail = comma ? "," : "";
      if (v !== null && typeof v === "object") {
        const isArray = Array.isArray(v);
        const entries = isArray ? v.map((x, i) => [i, x]) : Object.entries(v);
        const [open, close] = isArray ? ["[", "]"] : ["{", "}"];
        if (!entries.length) {
          root.append(line(depth, pointer, [...head, open + close + tail]));
          return;
        }
        root.append(line(depth, pointer, [...head, open]));
        entries.forEach(([k, x], i) => walk(x, `${pointer}/${pointerPart(k)}`, depth + 1, isArray ? null : k, i < entries.length - 1));
        root.append(el("div", { className: "line" }, "  ".repeat(depth), close + tail));
      } else {
        root.append(line(depth, pointer, [...head, scalar(v), tail]));
      }
    }

    walk(value, "", 0, null, false);
    // A violation marks the line of its path, or of the nearest parent when the value is missing.
    for (const [path, found] of byPath) {
      let at = path;
      while (!nodes.has(at) && at !== "") at = at.slice(0, Math.max(0, at.lastIndexOf("/")));
      const node = nodes.get(at);
      if (!node) continue;
      const worst = found.some((v) => v.severity === "error") ? "error" : "warning";
      node.classList.add("violation", worst);
      for (const v of found) {
        node.append(el("span", { className: `note ${v.severity}`, title: v.plan ? `${v.code} [plan: ${planReference(v.plan)}]` : v.code },
          at === path ? `← ${v.message}` : `← ${path}: ${v.message}`, planNote(v)));
      }
    }
    return root;
  }

  // -- detail panel ----------------------------------------------------------------------------

  function showDetail(...children) {
    const box = $("detail");
    clearNode(box);
    box.append(...children.filter((child) => child != null)); // append(null) would show "null"
  }

  function facts(pairs) {
    const dl = el("dl", { className: "facts" });
    for (const [k, v] of pairs) {
      if (v == null || v === "") continue;
      dl.append(el("dt", null, k), el("dd", null, typeof v === "object" ? JSON.stringify(v) : v));
    }
    return dl;
  }

  async function getJSON(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`${response.status} on ${url}`);
    return response.json();
  }

  // The detail of something, or null after saying in the panel that it is gone.
  async function fetchDetail(url, what) {
    try {
      return await getJSON(url);
    } catch (err) {
      showDetail(el("p", { className: "empty" }, `${what} is gone (${err.message}).`));
      return null;
    }
  }

  async function selectCall(id) {
    state.selected = { kind: "call", id };
    scheduleRender();
    const call = await fetchDetail(`/mockpipe/calls/${encodeURIComponent(id)}`, `Call ${id}`);
    if (call === null) return;
    if (!state.selected || state.selected.id !== id) return;
    const list = el("ul", { className: "violations" });
    for (const v of call.violations) {
      list.append(el("li", { className: v.severity },
        el("code", null, v.path || "/"), " ", el("span", { className: "code" }, v.code), " ", v.message,
        planNote(v)));
    }
    const extra = Object.entries(call).filter(([k]) => !["payload", "violations"].includes(k) && !(k in summaryKeys));
    showDetail(
      el("h2", null, `${call.type} #${call.id}`, " ", el("span", { className: "name" }, call.payload.event ?? call.payload.name ?? "")),
      facts([["write key", call.writeKey], ["received", call.receivedAt], ["path", call.path],
        ["messageId", call.messageId], ["valid", String(call.valid)], ["accepted", String(call.accepted)],
        ["attempts", call.attempts], ["duplicate of", call.duplicateOf], ...extra]),
      call.violations.length ? el("h3", null, "Violations") : null,
      call.violations.length ? list : null,
      el("h3", null, "Payload"),
      renderJSON(call.payload, call.violations),
    );
  }
  const summaryKeys = { id: 1, requestId: 1, writeKey: 1, type: 1, receivedAt: 1, region: 1, path: 1, valid: 1,
    accepted: 1, messageId: 1, duplicateOf: 1, attempts: 1 };

  async function selectRequest(id) {
    state.selected = { kind: "request", id };
    scheduleRender();
    const request = await fetchDetail(`/mockpipe/requests/${encodeURIComponent(id)}`, `Request ${id}`);
    if (request === null) return;
    showDetail(
      el("h2", null, `${request.method} ${request.path} → ${request.status}`),
      facts([["reason", request.reason], ["message", request.message], ["write key", request.writeKey],
        ["auth", request.auth], ["received", request.receivedAt], ["size", request.size],
        ["encoding", request.contentEncoding], ["user agent", request.userAgent], ["fault", request.fault]]),
      request.violations.length ? el("ul", { className: "violations" },
        ...request.violations.map((v) => el("li", { className: v.severity }, el("code", null, v.path || "/"), " ", v.message, planNote(v)))) : null,
      el("h3", null, "Body (as received)"),
      el("pre", { className: "json" }, request.body ?? "(not kept)"),
    );
  }

  // -- people ----------------------------------------------------------------------------------

  let peopleTimer = null;
  function schedulePeople() {
    if (state.tab !== "people" || peopleTimer) return;
    peopleTimer = setTimeout(() => {
      peopleTimer = null;
      loadPeople();
    }, 300);
  }

  // The people list comes in pages (GET /mockpipe/people?limit=&after=): tens of thousands of people
  // would take seconds to send and render. A known write key and the user filter are applied by the
  // server, so that the pages hold only matching people.
  function peopleURL(f, limit, after) {
    const params = new URLSearchParams({ limit: String(limit) });
    if (f.key && state.keys.has(f.key)) params.set("writeKey", f.key);
    if (f.user) params.set("q", f.user);
    if (after != null) params.set("after", String(after));
    return `/mockpipe/people?${params}`;
  }

  let peopleLoads = 0; // answers of superseded loads are dropped
  async function loadPeople(more = false) {
    const f = filters();
    const load = ++peopleLoads;
    const query = peopleURL(f, 0, null);
    if (query !== state.peopleQuery) { // other filters: start again from the first page
      state.people = [];
      state.peopleNext = null;
      state.peopleQuery = query;
      more = false;
    }
    // A refresh asks again for as many people as were shown (one request, at most MAX_PEOPLE).
    const limit = more ? PEOPLE_PAGE : Math.min(MAX_PEOPLE, Math.max(PEOPLE_PAGE, state.people.length));
    let data;
    try {
      data = await getJSON(peopleURL(f, limit, more ? state.peopleNext : null));
    } catch (err) {
      return; // the feed's status already says when the server is gone
    }
    if (load !== peopleLoads) return;
    state.people = more ? [...state.people, ...data.people] : data.people;
    state.peopleNext = data.next;
    state.peopleTotal = data.total;
    renderPeople(f);
  }

  function renderPeople(f) {
    const body = $("people").tBodies[0];
    clearNode(body);
    let shown = 0;
    for (const p of state.people) {
      if (!keyMatches(f, p.writeKey)) continue; // a partial key: filtered here
      const ids = [...p.anonymousIds, ...p.previousIds, ...p.emails];
      shown++;
      const traits = Object.entries(p.traits).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(", ");
      body.append(el("tr", { className: `person${p.suppressed ? " suppressed" : ""}`, data: { id: p.id },
        onclick: () => selectPerson(p.writeKey, p.id) },
      el("td", { className: "key" }, p.writeKey),
      el("td", null, p.userId ?? `anon ${p.id}`, p.suppressed ? el("span", { className: "badge warning" }, "suppressed") : null),
      el("td", { className: "user" }, ids.join(", ")),
      el("td", { className: "traits", title: traits }, traits),
      el("td", { className: "num" }, p.eventCount),
      el("td", { className: "num" }, p.objectCount),
      el("td", { title: p.lastSeen }, shortTime(p.lastSeen))));
    }
    $("people-empty").hidden = shown > 0;
    const bar = $("people-more-bar");
    bar.hidden = state.peopleNext == null;
    const full = state.people.length >= MAX_PEOPLE;
    $("people-shown").textContent = full
      ? `The first ${state.people.length} of ${state.peopleTotal} people: narrow them with the filters.`
      : `${state.people.length} of ${state.peopleTotal} people.`;
    $("people-more").hidden = full;
  }

  async function selectPerson(writeKey, id) {
    state.selected = { kind: "person", id };
    const p = await fetchDetail(`/mockpipe/people/${encodeURIComponent(id)}?writeKey=${encodeURIComponent(writeKey)}`, `${id}`);
    if (p === null) return;
    const events = el("ul", { className: "events" });
    for (const e of [...p.events].reverse()) {
      events.append(el("li", null, el("span", { className: `type type-${e.type}` }, e.type), " ",
        el("span", { className: "name" }, e.name ?? ""), " ", el("span", { className: "time" }, e.timestamp),
        Object.keys(e.properties).length ? el("code", null, " " + JSON.stringify(e.properties)) : null));
    }
    const objects = el("ul", { className: "objects" });
    for (const o of p.objects) {
      objects.append(el("li", null, el("a", { onclick: () => selectObject(writeKey, o.objectTypeId, o.objectId) },
        `type ${o.objectTypeId} / ${o.objectId}`), " ", el("code", null, JSON.stringify(o.attributes))));
    }
    const devices = el("ul", { className: "devices" });
    for (const d of p.devices) {
      devices.append(el("li", null, el("code", null, d.token), ` ${d.type ?? ""} `, el("code", null, JSON.stringify(d.attributes))));
    }
    showDetail(
      el("h2", null, p.userId ?? `anonymous ${p.id}`, p.suppressed ? el("span", { className: "badge warning" }, "suppressed") : null),
      facts([["write key", p.writeKey], ["anonymousIds", p.anonymousIds.join(", ")], ["merged ids", p.previousIds.join(", ")],
        ["emails", p.emails.join(", ")], ["first seen", p.firstSeen], ["last seen", p.lastSeen]]),
      el("h3", null, "Traits"), renderJSON(p.traits, []),
      el("h3", null, `Objects (${p.objects.length})`), objects,
      el("h3", null, `Devices (${p.devices.length})`), devices,
      el("h3", null, `Recent events (${p.events.length})`), events,
    );
  }

  async function selectObject(writeKey, typeId, id) {
    const o = await fetchDetail(`/mockpipe/objects/${encodeURIComponent(typeId)}/${encodeURIComponent(id)}?writeKey=${encodeURIComponent(writeKey)}`, `Object ${id}`);
    if (o === null) return;
    const people = el("ul", { className: "objects" });
    for (const rel of o.people) {
      people.append(el("li", null, el("a", { onclick: () => selectPerson(writeKey, rel.id) }, rel.id), " ",
        el("code", null, JSON.stringify(rel.relationshipAttributes))));
    }
    showDetail(
      el("h2", null, `object ${o.objectId}`, " ", el("span", { className: "name" }, `type ${o.objectTypeId}`)),
      facts([["write key", o.writeKey], ["first seen", o.firstSeen], ["last seen", o.lastSeen]]),
      el("h3", null, "Traits"), renderJSON(o.traits, []),
      el("h3", null, `People (${o.people.length})`), people,
    );
  }

  // -- live feed -------------------------------------------------------------------------------

  function count(c, delta) {
    const byType = (state.counts[c.writeKey] ??= {});
    byType[c.type] = (byType[c.type] ?? 0) + delta;
  }

  function connect() {
    const source = new EventSource("/mockpipe/events");
    const status = $("status");
    source.addEventListener("open", () => {
      status.textContent = "live";
      status.className = "status live";
    });
    source.addEventListener("error", () => {
      status.textContent = "reconnecting…";
      status.className = "status down";
    });
    source.addEventListener("hello", (e) => {
      const hello = JSON.parse(e.data);
      state.calls = hello.calls;
      state.rejected = hello.rejected;
      state.counts = hello.counts;
      state.keys = new Set([...Object.keys(hello.counts)]);
      document.body.dataset.ready = "1";
      scheduleRender();
      schedulePeople();
    });
    source.addEventListener("call", (e) => {
      const c = JSON.parse(e.data);
      state.calls.push(c);
      if (state.calls.length > MAX_CALLS) state.calls.splice(0, state.calls.length - MAX_CALLS);
      state.keys.add(c.writeKey);
      count(c, 1);
      scheduleRender();
      schedulePeople();
    });
    source.addEventListener("request", (e) => {
      state.rejected.push(JSON.parse(e.data));
      if (state.rejected.length > MAX_CALLS) state.rejected.shift();
      scheduleRender();
    });
    source.addEventListener("clear", (e) => {
      const { writeKey } = JSON.parse(e.data);
      const gone = (x) => writeKey == null || x.writeKey === writeKey;
      state.calls = state.calls.filter((c) => !gone(c));
      state.rejected = state.rejected.filter((r) => !gone(r));
      if (writeKey == null) {
        state.counts = {};
        state.keys.clear();
      } else {
        delete state.counts[writeKey];
        state.keys.delete(writeKey);
      }
      scheduleRender();
      schedulePeople();
    });
  }

  // -- wiring ----------------------------------------------------------------------------------

  // -- clearing, with a confirmation --------------------------------------------------------------

  function clearTarget() {
    const key = $("f-key").value.trim();
    return key && state.keys.has(key) ? key : null;
  }

  function askClear() {
    const key = clearTarget();
    $("clear-question").textContent = `${key ? `Delete every call and request of write key ${key}?`
      : "Delete every call and request, of every write key?"} This cannot be undone.`;
    $("clear").hidden = true;
    $("clear-confirm").hidden = false;
    $("clear-no").focus();
  }

  function cancelClear() {
    $("clear-confirm").hidden = true;
    $("clear").hidden = false;
  }

  async function confirmClear() {
    const key = clearTarget();
    cancelClear();
    const query = key ? `?writeKey=${encodeURIComponent(key)}` : "";
    // No body, so no Content-Type: the server takes state changes with JSON bodies only.
    const response = await fetch(`/mockpipe/calls${query}`, { method: "DELETE", headers: { Accept: "application/json" } });
    if (!response.ok) {
      const answer = await response.json().catch(() => ({}));
      showDetail(el("p", { className: "empty" }, `Not cleared: ${answer.message ?? response.status}`));
      return;
    }
    showDetail(el("p", { className: "empty" }, key ? `Cleared write key ${key}.` : "Cleared."));
  }

  function showTab(tab) {
    state.tab = tab;
    for (const button of document.querySelectorAll("button.tab")) button.classList.toggle("active", button.dataset.tab === tab);
    for (const name of ["calls", "rejected", "people"]) $(`view-${name}`).hidden = name !== tab;
    if (tab === "people") loadPeople();
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const button of document.querySelectorAll("button.tab")) button.addEventListener("click", () => showTab(button.dataset.tab));
    for (const id of ["f-key", "f-type", "f-name", "f-user", "f-valid"]) {
      $(id).addEventListener("input", () => {
        scheduleRender();
        schedulePeople();
      });
    }
    // Clearing deletes calls for good (from the store file too, with --store): it asks first.
    $("clear").addEventListener("click", askClear);
    $("clear-yes").addEventListener("click", confirmClear);
    $("clear-no").addEventListener("click", cancelClear);
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && !$("clear-confirm").hidden) cancelClear();
    });
    $("people-more").addEventListener("click", () => loadPeople(true));
    connect();
  });
})();
