// fedtoken-mock control panel: plain JavaScript over the admin API, no build step.
//
// Every value shown comes from the mock and may carry markup (a scenario description, a provider
// name, a session key), so text only ever enters the page through textContent / text nodes.
(function () {
  "use strict";

  // The admin API sits two levels above this script (/__admin/ui/assets/panel.js → /__admin/),
  // which keeps the panel working when the mock is served under a path prefix.
  const ADMIN = new URL("../../", (document.currentScript && document.currentScript.src) || location.href).pathname;
  const TOKEN_KEY = "fedtoken-mock.admin-token";
  const POLL_MS = 1000;
  const SLOW_EVERY = 5; // health and scenarios are polled every fifth tick
  const JOURNAL_LIMIT = 200;

  const ui = {
    scenarios: [],
    scenariosJSON: "",
    defaultName: "",
    state: null,
    stateJSON: "",
    sessions: [],
    sessionsJSON: "",
    sessionsSupported: true,
    providers: new Set(),
    paused: false,
    rows: new Map(),
    tokenWaiter: null,
    shownReloadError: "",
    dismissedReloadError: "",
    tick: 0,
  };

  const $ = (id) => document.getElementById(id);

  // el builds an element; strings among children become text nodes, never markup.
  function el(tag, props, ...children) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") n.className = v;
      else if (k === "text") n.textContent = v;
      else if (k === "on") for (const [ev, fn] of Object.entries(v)) n.addEventListener(ev, fn);
      else n.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) if (c !== null && c !== undefined && c !== false) n.append(c);
    return n;
  }

  // ---- admin API ---------------------------------------------------------------------------

  class APIError extends Error {
    constructor(status, doc, fallback) {
      const errors = doc && Array.isArray(doc.errors) ? doc.errors : [];
      const first = errors[0] || {};
      super(first.detail || first.title || fallback || "HTTP " + status);
      this.status = status;
      this.errors = errors;
    }
  }

  function readToken() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ""; } catch (_) { return ""; }
  }
  function writeToken(t) {
    try {
      if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY);
    } catch (_) { /* storage disabled: the token lives only until the page reloads */ }
    memoryToken = t;
    $("forget-token").hidden = !t;
  }
  let memoryToken = readToken();

  async function api(method, path, body) {
    const token = readToken() || memoryToken;
    const headers = { Accept: "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    const init = { method, headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch(ADMIN + path, init);
    const text = await res.text();
    let doc = null;
    if (text) { try { doc = JSON.parse(text); } catch (_) { doc = null; } }
    if (res.status === 401 && path !== "health") {
      // A call sent with an older token than the one now stored just retries; only a refusal of
      // the current token (or of none) asks the user.
      const current = readToken() || memoryToken;
      if (!current || current === token) await askToken(Boolean(token));
      return api(method, path, body);
    }
    if (!res.ok) throw new APIError(res.status, doc, text.slice(0, 200));
    return doc;
  }

  // askToken shows the in-page token form once, however many calls are waiting on it.
  function askToken(refused) {
    if (ui.tokenWaiter) return ui.tokenWaiter;
    const dialog = $("token-dialog");
    $("token-error").textContent = refused ? "The mock refused that token; try again." : "";
    $("token-input").value = "";
    ui.tokenWaiter = new Promise((resolve) => {
      const form = $("token-form");
      const onSubmit = (ev) => {
        ev.preventDefault();
        const t = $("token-input").value.trim();
        if (!t) return;
        form.removeEventListener("submit", onSubmit);
        writeToken(t);
        dialog.close();
        ui.tokenWaiter = null;
        resolve();
      };
      form.addEventListener("submit", onSubmit);
    });
    if (typeof dialog.showModal === "function") dialog.showModal(); else dialog.setAttribute("open", "");
    $("token-input").focus();
    return ui.tokenWaiter;
  }

  // ---- formatting --------------------------------------------------------------------------

  function statusClass(code) {
    const n = Number(code);
    if (n >= 200 && n < 300) return "st-2xx";
    if (n >= 300 && n < 400) return "st-3xx";
    if (n >= 400 && n < 500) return "st-4xx";
    if (n >= 500 && n < 600) return "st-5xx";
    return "st-other";
  }

  function parseTime(t) {
    // RFC 3339 with nanoseconds: trim to milliseconds so every engine parses it.
    const d = new Date(String(t || "").replace(/(\.\d{3})\d+/, "$1"));
    return isNaN(d.getTime()) ? null : d;
  }

  function clock(t) {
    const d = parseTime(t);
    if (!d) return String(t || "");
    const p = (n, w) => String(n).padStart(w || 2, "0");
    return p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds()) + "." + p(d.getMilliseconds(), 3);
  }

  function duration(ms) {
    const n = Number(ms);
    if (!isFinite(n)) return "";
    if (n >= 1000) return (n / 1000).toFixed(2) + " s";
    if (n >= 100) return n.toFixed(0) + " ms";
    if (n >= 1) return n.toFixed(1) + " ms";
    return n.toFixed(2) + " ms";
  }

  function untilText(expiresAt) {
    const d = parseTime(expiresAt);
    if (!d) return "";
    const s = Math.round((d.getTime() - Date.now()) / 1000);
    if (s <= 0) return "expired";
    if (s < 120) return "expires in " + s + "s";
    if (s < 7200) return "expires in " + Math.round(s / 60) + "m";
    return "expires " + d.toLocaleString();
  }

  // switchView renders {scenario, times_left, expires_at} as a name plus its limits.
  function switchView(sw) {
    const span = el("span", null, el("span", { class: "scn", text: sw.scenario }));
    if (sw.times_left !== undefined && sw.times_left !== null) {
      span.append(el("span", { class: "meta", text: sw.times_left + " left" }));
    }
    if (sw.expires_at) {
      span.append(el("span", { class: "meta expires", "data-expires": sw.expires_at, title: sw.expires_at, text: untilText(sw.expires_at) }));
    }
    return span;
  }

  let noticeTimer = 0;
  function notice(text, kind) {
    const n = $("notice");
    n.textContent = text;
    n.className = "notice" + (kind ? " " + kind : "");
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => { n.textContent = ""; n.className = "notice"; }, 8000);
  }

  // keepFocus re-renders a container and puts focus back on the element with the same key.
  function keepFocus(container, render) {
    const active = document.activeElement;
    const key = active && container.contains(active) ? active.getAttribute("data-focus-key") : null;
    render();
    if (key) {
      for (const n of container.querySelectorAll("[data-focus-key]")) {
        if (n.getAttribute("data-focus-key") === key) { n.focus(); break; }
      }
    }
  }

  // busy disables nothing (a disabled button drops keyboard focus) but marks the button and
  // ignores repeat clicks until the action settles.
  async function busy(button, action) {
    if (button && button.getAttribute("aria-busy") === "true") return;
    if (button) button.setAttribute("aria-busy", "true");
    try { await action(); } catch (err) { notice(err.message || String(err), "bad"); } finally {
      if (button) button.removeAttribute("aria-busy");
    }
  }

  // ---- scenarios ---------------------------------------------------------------------------

  function kindText(s) {
    const parts = [];
    if (Array.isArray(s.sequence) && s.sequence.length) {
      parts.push("sequence: " + s.sequence.join(" → ") + (s.then ? ", then " + s.then : ""));
    } else if (s.then) {
      parts.push("then " + s.then);
    }
    if (s.fault) parts.push("fault: " + s.fault);
    if (s.delay) parts.push("delay: " + s.delay);
    return parts.join(" · ");
  }

  // specBadge says whether the answer conforms to the endpoint's contract; a sequence has no
  // answer of its own (each step is a scenario with its own badge).
  function specBadge(s) {
    if (Array.isArray(s.sequence) && s.sequence.length) {
      return el("span", { class: "badge plain", title: "A sequence: each step answers as its own scenario", text: "per step" });
    }
    return s.contract
      ? el("span", { class: "badge ok", title: "Answers as the real endpoint's contract allows", text: "spec" })
      : el("span", { class: "badge warn", title: "Deliberately outside the endpoint's contract", text: "off-spec" });
  }

  function renderScenarios() {
    const tbody = $("scenario-rows");
    const rows = ui.scenarios.map((s) => {
      const name = String(s.name);
      const hasStatus = s.status !== undefined && s.status !== null && s.status !== 0;
      const providers = Array.isArray(s.providers) && s.providers.length ? s.providers.join(", ") : "";
      const kind = kindText(s);
      const source = s.source || "";
      return el("tr", { "data-scenario": name },
        el("td", { class: "name" }, el("code", { title: name, text: name }),
          el("span", { class: "source", title: source, text: source })),
        el("td", { class: "inforce" }, el("span", { class: "tags" })),
        el("td", { class: "code" }, el("span", { class: "status " + statusClass(s.status), text: hasStatus ? String(s.status) : (s.fault ? "fault" : "seq") })),
        el("td", { class: "desc" }, s.description || "", kind ? el("span", { class: "kind", text: kind }) : null),
        el("td", { class: "providers", title: providers || "every provider" }, providers || el("span", { class: "muted", text: "all" })),
        el("td", { class: "spec" }, specBadge(s)),
        el("td", { class: "action" }, el("button", {
          type: "button", class: "small set-global", "data-focus-key": "set-global:" + name,
          "aria-label": "Set " + name + " as the global scenario", text: "Set global",
          on: { click: (ev) => busy(ev.currentTarget, () => setGlobal(name)) },
        })),
      );
    });
    keepFocus(tbody, () => tbody.replaceChildren(...rows));
    $("scenario-count").textContent = "(" + ui.scenarios.length + ")";
    $("default-value").replaceChildren(el("span", { class: "scn", text: ui.defaultName || "—" }), el("span", { class: "meta", text: "when nothing else applies" }));

    for (const select of document.querySelectorAll(".scenario-select")) {
      const current = select.value;
      select.replaceChildren(...ui.scenarios.map((s) => el("option", { value: s.name, text: s.name })));
      if (ui.scenarios.some((s) => s.name === current)) select.value = current;
    }
    for (const s of ui.scenarios) for (const p of s.providers || []) addProvider(p);
    markInForce();
  }

  async function refreshScenarios() {
    const doc = await api("GET", "scenarios");
    const json = JSON.stringify(doc);
    if (json === ui.scenariosJSON) return;
    ui.scenariosJSON = json;
    ui.scenarios = Array.isArray(doc && doc.scenarios) ? doc.scenarios : [];
    ui.defaultName = (doc && doc.default) || "";
    renderScenarios();
  }

  // ---- state (what is in force) ------------------------------------------------------------

  function markInForce() {
    const st = ui.state || {};
    const tags = new Map();
    const add = (name, label, cls) => {
      if (!tags.has(name)) tags.set(name, []);
      tags.get(name).push(el("span", { class: "badge " + cls, text: label }));
    };
    if (st.global) add(st.global.scenario, "global", "info");
    for (const [p, sw] of Object.entries(st.providers || {})) if (sw) add(sw.scenario, p, "plain");
    if (!st.global && ui.defaultName) add(ui.defaultName, "default", "plain");
    for (const tr of $("scenario-rows").children) {
      const name = tr.getAttribute("data-scenario");
      tr.classList.toggle("is-global", Boolean(st.global && st.global.scenario === name));
      tr.querySelector(".tags").replaceChildren(...(tags.get(name) || []));
    }
  }

  function clearButton(label, focusKey, action) {
    return el("button", {
      type: "button", class: "small", "data-focus-key": focusKey, "aria-label": label, text: "Clear",
      on: { click: (ev) => busy(ev.currentTarget, action) },
    });
  }

  function renderState() {
    const st = ui.state || {};
    $("global-value").replaceChildren(st.global ? switchView(st.global) : el("span", { class: "muted", text: "none (the default applies)" }));

    const plist = $("provider-switches");
    const providers = Object.entries(st.providers || {}).filter(([, sw]) => sw).sort(([a], [b]) => a.localeCompare(b));
    keepFocus(plist, () => plist.replaceChildren(...providers.map(([p, sw]) => {
      addProvider(p);
      return el("li", null,
        el("span", { class: "who", title: p, text: p }),
        el("span", { class: "what" }, switchView(sw)),
        clearButton("Clear the switch of provider " + p, "clear-provider:" + p, () => clearProvider(p)));
    })));
    $("providers-empty").hidden = providers.length > 0;

    renderSessions();
    markInForce();
  }

  function renderSessions() {
    const st = ui.state || {};
    const switches = st.sessions || {};
    const known = new Map();
    for (const s of ui.sessions) known.set(s.key, s);
    for (const k of Object.keys(switches)) if (!known.has(k)) known.set(k, { key: k });
    const keys = [...known.keys()].sort();

    const list = $("session-list");
    keepFocus(list, () => list.replaceChildren(...keys.map((key) => {
      const info = known.get(key);
      const sw = switches[key] || {};
      const li = el("li", null, el("span", { class: "who", title: key, text: key }));
      const what = el("span", { class: "what" });
      if (info.requests !== undefined) what.append(el("span", { class: "meta", text: info.requests + " req" }));
      if (info.last_seen) what.append(el("span", { class: "meta", title: info.last_seen, text: "seen " + clock(info.last_seen) }));
      li.append(what, el("button", {
        type: "button", class: "small", "data-focus-key": "end-session:" + key, "aria-label": "End session " + key, text: "End",
        on: { click: (ev) => busy(ev.currentTarget, () => endSession(key)) },
      }));
      if (sw.global) {
        li.append(el("div", { class: "sub" }, el("span", { class: "muted", text: "all providers" }), el("span", { class: "what" }, switchView(sw.global)),
          clearButton("Clear the scenario of session " + key, "clear-session:" + key, () => clearSession(key, ""))));
      }
      for (const [p, psw] of Object.entries(sw.providers || {}).sort(([a], [b]) => a.localeCompare(b))) {
        if (!psw) continue;
        addProvider(p);
        li.append(el("div", { class: "sub" }, el("span", { class: "who", title: p, text: p }), el("span", { class: "what" }, switchView(psw)),
          clearButton("Clear the switch of provider " + p + " in session " + key, "clear-session:" + key + ":" + p, () => clearSession(key, p))));
      }
      return li;
    })));
    $("sessions-empty").hidden = keys.length > 0;
    $("known-sessions").replaceChildren(...keys.map((k) => el("option", { value: k })));
  }

  function applyState(doc) {
    const json = JSON.stringify(doc);
    if (json === ui.stateJSON) return;
    ui.stateJSON = json;
    ui.state = doc || {};
    renderState();
  }

  async function refreshState() { applyState(await api("GET", "state")); }

  async function refreshSessions() {
    if (!ui.sessionsSupported) return;
    let doc;
    try {
      doc = await api("GET", "sessions");
    } catch (err) {
      if (err.status === 404 || err.status === 405) { ui.sessionsSupported = false; return; }
      throw err;
    }
    const json = JSON.stringify(doc);
    if (json === ui.sessionsJSON) return;
    ui.sessionsJSON = json;
    ui.sessions = Array.isArray(doc && doc.sessions) ? doc.sessions : [];
    renderSessions();
  }

  // Countdowns tick locally between polls so "expires in" stays true without re-rendering.
  function tickCountdowns() {
    for (const n of document.querySelectorAll("[data-expires]")) n.textContent = untilText(n.getAttribute("data-expires"));
  }

  // ---- actions -----------------------------------------------------------------------------

  // switchBody reads the optional times and ttl fields; a bad times value is refused here.
  function switchBody(scenario, timesInput, ttlInput) {
    const body = { scenario };
    const times = timesInput.value.trim();
    if (times) {
      if (!/^[0-9]+$/.test(times) || Number(times) < 1) throw new Error("Times must be a whole number of at least 1 (or empty for no limit).");
      body.times = Number(times);
    }
    const ttl = ttlInput.value.trim();
    if (ttl) body.ttl = ttl;
    return body;
  }

  const enc = encodeURIComponent;

  async function setGlobal(name) {
    const body = switchBody(name, $("global-times"), $("global-ttl"));
    applyState(await api("PUT", "scenario", body));
    notice("Global scenario: " + name, "ok");
  }
  async function clearGlobal() {
    applyState(await api("DELETE", "scenario"));
    notice("Global scenario cleared", "ok");
  }
  async function clearProvider(p) {
    applyState(await api("DELETE", "providers/" + enc(p)));
    notice("Switch of provider " + p + " cleared", "ok");
  }
  async function clearSession(key, provider) {
    const path = "sessions/" + enc(key) + (provider ? "/providers/" + enc(provider) : "/scenario");
    applyState(await api("DELETE", path));
    notice("Switch of session " + key + (provider ? " / " + provider : "") + " cleared", "ok");
  }
  async function endSession(key) {
    const doc = await api("DELETE", "sessions/" + enc(key));
    if (doc && (doc.global !== undefined || doc.providers !== undefined)) applyState(doc); else await refreshState();
    await refreshSessions();
    notice("Session " + key + " ended", "ok");
  }

  async function submitProvider(ev) {
    ev.preventDefault();
    const provider = $("pf-provider").value.trim();
    const scenario = $("pf-scenario").value;
    if (!provider || !scenario) return;
    await busy(ev.submitter, async () => {
      const body = switchBody(scenario, $("pf-times"), $("pf-ttl"));
      applyState(await api("PUT", "providers/" + enc(provider), body));
      notice("Provider " + provider + ": " + scenario, "ok");
    });
  }

  async function submitSession(ev) {
    ev.preventDefault();
    const key = $("sf-session").value.trim();
    const provider = $("sf-provider").value.trim();
    const scenario = $("sf-scenario").value;
    if (!key || !scenario) return;
    await busy(ev.submitter, async () => {
      const body = switchBody(scenario, $("sf-times"), $("sf-ttl"));
      const path = "sessions/" + enc(key) + (provider ? "/providers/" + enc(provider) : "/scenario");
      applyState(await api("PUT", path, body));
      notice("Session " + key + (provider ? " / " + provider : "") + ": " + scenario, "ok");
      await refreshSessions();
    });
  }

  async function reset() {
    applyState(await api("POST", "reset"));
    await refreshJournal(true);
    await refreshSessions();
    notice("Reset: switches, sequence positions and journal cleared", "ok");
  }

  // splitProblem turns "file:line: message" into its location and message.
  function splitProblem(text) {
    const m = /^(.+?:\d+): ([\s\S]*)$/.exec(text) || /^([^\s:]+): ([\s\S]*)$/.exec(text);
    return m ? { loc: m[1], msg: m[2] } : { loc: "", msg: text };
  }

  // problemView shows a problem as file:line and its message (without the location repeated).
  function problemView(file, line, message) {
    const loc = String(file) + (line ? ":" + line : "");
    const msg = String(message || "");
    return { loc, msg: msg.startsWith(loc + ": ") ? msg.slice(loc.length + 2) : msg };
  }

  function showReloadErrors(problems, key) {
    ui.shownReloadError = key;
    $("reload-error-list").replaceChildren(...problems.map((p) => el("li", null,
      // "file:line: message" reads (and copies) as the loader wrote it.
      p.loc ? el("code", { class: "loc", text: p.loc + ":" }) : null, p.loc ? " " : null, el("span", { text: p.msg }))));
    $("reload-errors").hidden = false;
  }

  function hideReloadErrors() {
    $("reload-errors").hidden = true;
    $("reload-error-list").replaceChildren();
  }

  async function reload() {
    try {
      const r = await api("POST", "reload");
      hideReloadErrors();
      ui.shownReloadError = "";
      const dropped = r && Array.isArray(r.dropped) && r.dropped.length ? "; dropped switches: " + r.dropped.join(", ") : "";
      notice("Reloaded " + (r && r.scenarios) + " scenarios" + dropped, dropped ? "bad" : "ok");
    } catch (err) {
      if (err.status !== 422) throw err;
      // The document leads with a summary; each problem after it carries meta {file, line, message}.
      const located = err.errors.filter((e) => e.meta && e.meta.file);
      const problems = (located.length ? located : err.errors).map((e) => {
        const meta = e.meta || {};
        const detail = String(e.detail || e.title || "");
        if (meta.file) return problemView(meta.file, meta.line, meta.message || detail);
        return splitProblem(detail);
      });
      // The same text health reports as reload_error, so its poll does not redraw the list.
      const key = (located.length ? located : err.errors).map((e) => e.detail).join("\n");
      ui.dismissedReloadError = "";
      showReloadErrors(problems, key);
      notice("Reload failed: " + problems.length + " problem" + (problems.length === 1 ? "" : "s"), "bad");
      $("reload-errors").focus();
    }
    await refreshScenarios();
    await refreshState();
  }

  // ---- health ------------------------------------------------------------------------------

  async function refreshHealth() {
    const h = $("health");
    let doc;
    try {
      doc = await api("GET", "health");
    } catch (err) {
      h.textContent = "mock unreachable";
      h.className = "health bad";
      return;
    }
    const parts = ["ok"];
    if (doc.version) parts.push(/^\d/.test(String(doc.version)) ? "v" + doc.version : String(doc.version));
    if (doc.scenarios !== undefined) parts.push(doc.scenarios + " scenarios");
    h.textContent = parts.join(" · ");
    h.className = "health ok";
    // A reload that failed elsewhere (a signal, another tab) shows here too.
    const re = doc.reload_error ? String(doc.reload_error) : "";
    if (re && re !== ui.shownReloadError && re !== ui.dismissedReloadError) {
      const problems = Array.isArray(doc.reload_problems) && doc.reload_problems.length
        ? doc.reload_problems.map((p) => problemView(p.file, p.line, p.message))
        : re.split("\n").filter(Boolean).map(splitProblem);
      showReloadErrors(problems, re);
    } else if (!re && ui.shownReloadError) {
      hideReloadErrors();
      ui.shownReloadError = "";
    }
  }

  // ---- journal -----------------------------------------------------------------------------

  function addProvider(p) {
    if (!p || ui.providers.has(p)) return;
    ui.providers.add(p);
    const sorted = [...ui.providers].sort();
    const select = $("journal-provider");
    const current = select.value;
    select.replaceChildren(el("option", { value: "", text: "All providers" }), ...sorted.map((x) => el("option", { value: x, text: x })));
    select.value = current;
    $("known-providers").replaceChildren(...sorted.map((x) => el("option", { value: x })));
  }

  function journalRow(r) {
    // A sequence's row names the step that answered: "refresh-then-success → unauthorized".
    const scenario = String(r.scenario || "") + (r.step ? " → " + r.step : "");
    const dash = (v) => (v === undefined || v === null || v === "" ? "—" : String(v));
    return el("tr", { class: statusClass(r.status), title: (r.method || "") + " " + (r.path || "") + (r.request_id ? "  ·  " + r.request_id : "") },
      el("td", { class: "time", title: String(r.time || ""), text: clock(r.time) }),
      el("td", { class: "provider", title: dash(r.provider), text: dash(r.provider) }),
      el("td", { class: "session", title: dash(r.session), text: dash(r.session) }),
      el("td", { class: "scenario", title: scenario, text: scenario }),
      el("td", { class: "rule", text: dash(r.selected_by) }),
      el("td", null, el("span", { class: "status", text: dash(r.status) })),
      el("td", { class: "num", text: duration(r.duration_ms) }));
  }

  async function refreshJournal(force) {
    if (ui.paused && !force) return;
    const provider = $("journal-provider").value;
    let path = "requests?limit=" + JOURNAL_LIMIT;
    if (provider) path += "&provider=" + enc(provider);
    const doc = await api("GET", path);
    if (provider !== $("journal-provider").value) return; // the filter changed while we waited
    const list = (Array.isArray(doc && doc.requests) ? doc.requests : []).slice().reverse();

    const tbody = $("journal-rows");
    const wrap = $("journal-wrap");
    const next = new Map();
    let added = 0;
    list.forEach((r, i) => {
      const key = r.request_id || (r.time + " " + r.path + " " + i);
      let tr = ui.rows.get(key);
      if (!tr) { tr = journalRow(r); added++; }
      next.set(key, tr);
      if (r.provider) addProvider(r.provider);
    });
    // Rows already shown are never rebuilt: new ones go in above them, old ones fall off the end.
    const wanted = [...next.values()];
    const firstOld = tbody.firstElementChild;
    const topBefore = wrap.scrollTop;
    for (let i = 0; i < wanted.length; i++) {
      const at = tbody.children[i];
      if (at !== wanted[i]) tbody.insertBefore(wanted[i], at || null);
    }
    while (tbody.children.length > wanted.length) tbody.lastElementChild.remove();
    // Keep a reader who scrolled down looking at the same rows.
    if (topBefore > 0 && firstOld && next.size && added) {
      wrap.scrollTop = topBefore + (firstOld.offsetTop - (tbody.firstElementChild ? tbody.firstElementChild.offsetTop : 0));
    }
    ui.rows = next;
    $("journal-empty").hidden = wanted.length > 0;
    $("journal-count").textContent = "(" + wanted.length + (wanted.length >= JOURNAL_LIMIT ? "+" : "") + ", newest first)";
  }

  async function clearJournal() {
    await api("DELETE", "requests");
    await refreshJournal(true);
    notice("Journal cleared", "ok");
  }

  // ---- polling -----------------------------------------------------------------------------

  async function poll() {
    if (!document.hidden && !ui.tokenWaiter) {
      const slow = ui.tick % SLOW_EVERY === 0;
      ui.tick++;
      const jobs = [refreshState(), refreshJournal(false), refreshSessions()];
      if (slow) jobs.push(refreshHealth(), refreshScenarios());
      const results = await Promise.allSettled(jobs);
      const failed = results.find((r) => r.status === "rejected");
      const h = $("health");
      if (failed && failed.reason instanceof TypeError) {
        h.textContent = "mock unreachable";
        h.className = "health bad";
      } else if (!failed && h.classList.contains("bad")) {
        await refreshHealth().catch(() => {});
      }
      tickCountdowns();
    }
    setTimeout(poll, POLL_MS);
  }

  function init() {
    $("forget-token").hidden = !memoryToken;
    $("reload").addEventListener("click", (ev) => busy(ev.currentTarget, reload));
    $("reset").addEventListener("click", (ev) => busy(ev.currentTarget, reset));
    $("clear-global").addEventListener("click", (ev) => busy(ev.currentTarget, clearGlobal));
    $("clear-journal").addEventListener("click", (ev) => busy(ev.currentTarget, clearJournal));
    $("dismiss-errors").addEventListener("click", () => {
      ui.dismissedReloadError = ui.shownReloadError;
      hideReloadErrors();
      $("reload").focus();
    });
    $("forget-token").addEventListener("click", () => {
      writeToken("");
      notice("Admin token forgotten for this tab", "ok");
      $("reload").focus();
    });
    $("pause").addEventListener("click", (ev) => {
      ui.paused = !ui.paused;
      ev.currentTarget.setAttribute("aria-pressed", String(ui.paused));
      ev.currentTarget.textContent = ui.paused ? "Resume" : "Pause";
      if (!ui.paused) refreshJournal(true).catch((err) => notice(err.message, "bad"));
    });
    $("journal-provider").addEventListener("change", () => {
      $("journal-rows").replaceChildren();
      ui.rows = new Map();
      refreshJournal(true).catch((err) => notice(err.message, "bad"));
    });
    $("provider-form").addEventListener("submit", submitProvider);
    $("session-form").addEventListener("submit", submitSession);
    // The panel cannot work without the token, so Escape does not close its form.
    $("token-dialog").addEventListener("cancel", (ev) => ev.preventDefault());
    $("reload-errors").setAttribute("tabindex", "-1");
    poll();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
