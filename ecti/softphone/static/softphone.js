// The softphone page: one status control, ringing calls, the current call (inbound or outbound:
// hold, mute, keypad, transfer, SMS), the wrap-up (disposition and note), dialing and the log.
// Live state comes from the push channel (presence.js) and the JSON API, polled as a safety net (every second for the agent, a few seconds for the
// rest), so it works whichever app process answers. The device (ECTIDevice) is the only part
// that knows whether the Twilio SDK or the simulator is behind the buttons.
(function () {
  "use strict";
  const root = document.getElementById("softphone");
  const T = JSON.parse(document.getElementById("sp-strings").textContent);
  const API = root.dataset.api;
  const csrf = document.querySelector("meta[name=csrf-token]").content;
  const $ = (selector) => root.querySelector(selector);
  const POLL_MS = 1000;
  const SLOW_POLL_MS = 5000;
  // While the push channel is up (presence.js sets ectiSoftphone.live), polling is only the
  // safety net: the state is fetched when a hint says it changed.
  const LIVE_POLL_MS = 15000;
  let lastRefresh = 0;
  let lastSlowRefresh = 0;
  const SYSTEM_STATES = ["ringing", "on_call", "wrap_up"];

  const device = window.ECTIDevice.create({
    kind: root.dataset.device, simulatorUrl: root.dataset.simulator, sdkUrl: root.dataset.sdk,
  });
  let me = null;
  let clockSkew = 0;       // server time minus browser time, in ms
  // An outgoing call while it is up: {display, e164, startedAt, callId, onHold}
  let outgoing = null;
  // The call being wrapped up (during the call and after it): {callId, display, direction, number, ...}
  let wrap = null;
  let agents = [];
  let queues = [];
  let dispositions = [];

  function fill(template, values) {
    return template.replace(/\$\{(\w+)\}/g, (_m, key) => (key in values ? values[key] : ""));
  }

  function duration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = String(seconds % 60).padStart(2, "0");
    return h ? h + ":" + String(m).padStart(2, "0") + ":" + s : m + ":" + s;
  }

  function now() {
    return Date.now() + clockSkew;
  }

  function showError(message) {
    $(".sp-error").textContent = message ? fill(T.error, {message: message}) : "";
  }

  function notice(message) {
    $(".sp-notice").textContent = message || "";
  }

  async function api(method, path, body) {
    const response = await fetch(API + path, {
      method: method,
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "application/json"},
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const date = response.headers.get("Date");
    if (date) clockSkew = Date.parse(date) + 500 - Date.now();
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) throw new Error((data && data.error && data.error.message) || String(response.status));
    return data;
  }

  async function act(work) {
    try {
      showError("");
      await work();
    } catch (error) {
      showError(error.message);
    }
    await refresh();
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // --- rendering -----------------------------------------------------------------------------

  function presenceValue() {
    if (me.presence === "away" && me.away_reason) {
      const value = "away:" + me.away_reason;
      if (Array.from($(".sp-presence").options).some((o) => o.value === value)) return value;
    }
    return me.presence;
  }

  function presenceLabel() {
    if (me.presence === "away" && me.away_reason) return fill(T.away_reason, {reason: me.away_reason});
    return T[me.presence] || me.status_label;
  }

  function renderStatus() {
    // One control: the system's state while it applies, and what the agent chose underneath.
    const call = me.call || outgoing;
    const system = outgoing ? "on_call" : (SYSTEM_STATES.includes(me.status) ? me.status : null);
    const state = $(".sp-state");
    state.dataset.system = String(Boolean(system));
    state.dataset.status = system || me.presence;
    const badge = $(".sp-status");
    badge.dataset.status = system || me.presence;
    badge.textContent = system ? (T[system] || me.status_label) : presenceLabel();
    let since = Date.parse(me.status_since);
    if (outgoing) since = outgoing.startedAt + clockSkew;  // browser time → server time
    else if (call && call.connected_at) since = Date.parse(call.connected_at);
    $(".sp-state-time").textContent = duration((now() - since) / 1000);
    const select = $(".sp-presence");
    if (document.activeElement !== select) select.value = presenceValue();
  }

  function renderCall() {
    const call = $(".sp-call");
    const inCall = Boolean(me.call) || Boolean(outgoing);
    call.hidden = !inCall;
    if (!inCall && device.muted) device.mute(false);  // the next call starts unmuted
    let onHold = false;
    call.querySelector(".sp-badge-callback").hidden = !(me.call && me.call.callback);
    if (me.call) {
      call.querySelector(".sp-direction").textContent = T.inbound;
      call.querySelector(".sp-call-queue").textContent = me.call.queue_name;
      call.querySelector(".sp-number").textContent = me.call.caller_display;
      lookup(me.call.caller_number, call.querySelector(".sp-name"));
      const since = me.call.connected_at ? Date.parse(me.call.connected_at) : now();
      call.querySelector(".sp-timer").textContent = duration((now() - since) / 1000);
      call.querySelector(".sp-callstate").textContent = me.call.transfer_ringing_to
        ? fill(T.transfer_ringing, {name: agentName(me.call.transfer_ringing_to)}) : "";
      onHold = me.call.on_hold;
    } else if (outgoing) {
      call.querySelector(".sp-direction").textContent = T.outbound_short;
      call.querySelector(".sp-call-queue").textContent = "";
      call.querySelector(".sp-number").textContent = outgoing.display;
      lookup(outgoing.e164, call.querySelector(".sp-name"));
      call.querySelector(".sp-timer").textContent = duration((Date.now() - outgoing.startedAt) / 1000);
      call.querySelector(".sp-callstate").textContent = outgoing.callId ? "" : T.calling;
      onHold = Boolean(outgoing.onHold);
    }
    setToggle(call.querySelector("[data-action=hold]"), onHold);
    setToggle(call.querySelector("[data-action=mute]"), Boolean(device.muted) && inCall);
    call.querySelector(".sp-badge-hold").hidden = !onHold;
    call.querySelector(".sp-badge-mute").hidden = !(device.muted && inCall);
    // A supervisor listening (unless the company hides it), coaching or in the call (issue 24).
    const watched = call.querySelector(".sp-badge-monitored");
    const mode = inCall && me.call && me.call.monitored ? me.call.monitored : "";
    watched.hidden = !mode;
    watched.setAttribute("data-monitored", mode);
    if (watched.textContent !== (mode ? me.call.monitored_label : "")) watched.textContent = mode ? me.call.monitored_label : "";
    // Queue calls go to an agent or a queue; outgoing calls to a number.
    call.querySelector(".sp-transfer-inbound").hidden = !me.call;
    return inCall;
  }

  function setToggle(button, on) {
    button.setAttribute("aria-pressed", String(on));
    button.textContent = on ? button.dataset.on : button.dataset.off;
    button.classList.toggle("slds-button_brand", on);
    button.classList.toggle("slds-button_neutral", !on);
  }

  function renderWrap(inCall) {
    const section = $(".sp-wrapup");
    const acdWrap = me.status === "wrap_up";
    section.hidden = !wrap && !acdWrap;
    if (section.hidden) return;
    const who = wrap ? wrap.display : "";
    section.querySelector(".sp-wrap-call").textContent = who;
    const countdown = section.querySelector(".sp-countdown");
    countdown.textContent = acdWrap && me.wrap_up_until
      ? fill(T.wrap_up_left, {seconds: Math.max(0, Math.ceil((Date.parse(me.wrap_up_until) - now()) / 1000))}) : "";
    section.querySelector("[data-action=ready]").hidden = !acdWrap;
    section.querySelector("[data-action=wrap-close]").hidden = acdWrap || inCall;
    const form = !wrap || !wrap.callId;
    section.querySelector("#sp-disposition").disabled = form;
    section.querySelector("#sp-note").disabled = form;
    section.querySelector("[data-action=wrap-save]").disabled = form;
  }

  function render() {
    if (!me) return;
    renderStatus();
    const ringing = $(".sp-ringing");
    ringing.hidden = !me.offer;
    if (me.offer) {
      ringing.querySelector(".sp-number").textContent = me.offer.caller_display;
      ringing.querySelector(".sp-offer-callback").hidden = !me.offer.callback;
      ringing.querySelector(".sp-queue").textContent = fill(T.queue_wait, {queue: me.offer.queue_name, wait: duration(me.offer.wait_seconds)});
      lookup(me.offer.caller_number, ringing.querySelector(".sp-name"));
    }
    const inCall = renderCall();
    renderWrap(inCall);
    $(".sp-dial").hidden = inCall || Boolean(me.offer);
  }

  const names = new Map();
  async function lookup(number, target) {
    if (names.has(number)) {
      target.textContent = names.get(number) || "";
      return;
    }
    names.set(number, null);
    try {
      const found = await api("GET", "/softphone/lookup?number=" + encodeURIComponent(number));
      names.set(number, found.name);
      target.textContent = found.name || "";
    } catch (error) {
      // no CRM: the number alone is shown
    }
  }

  function agentName(userId) {
    const agent = agents.find((a) => a.user_id === userId);
    return agent ? agent.display_name : String(userId);
  }

  function replaceOptions(select, options) {
    const chosen = select.value;
    select.replaceChildren(...options);
    select.value = chosen;
  }

  function renderAgents() {
    const options = [new Option(T.choose_agent, "")];
    for (const agent of agents) {
      if (agent.user_id === Number(root.dataset.user)) continue;
      const option = new Option(agent.display_name + " — " + agent.status_label, String(agent.user_id));
      option.disabled = agent.status !== "available";
      options.push(option);
    }
    replaceOptions($("#sp-transfer-agent"), options);
    replaceOptions($("#sp-transfer-queue"), [new Option(T.choose_queue, ""), ...queues.map((q) => new Option(q.name, String(q.id)))]);
  }

  function renderDispositions() {
    replaceOptions($("#sp-disposition"), [new Option(T.no_disposition, ""), ...dispositions.map((d) => new Option(d.label, d.code))]);
  }

  let logCalls = [];
  async function refreshLog() {
    const log = await api("GET", "/softphone/log");
    logCalls = log.calls;
    const list = $(".sp-log-list");
    if (!log.calls.length) {
      const li = document.createElement("li");
      li.className = "slds-item";
      li.textContent = T.no_calls;
      list.replaceChildren(li);
      return log;
    }
    list.replaceChildren(...log.calls.map((entry) => {
      const li = document.createElement("li");
      li.className = "slds-item sp-log-item";
      li.dataset.callId = entry.call_id;
      li.dataset.outcome = entry.outcome;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "slds-button sp-callback";
      button.dataset.number = entry.display;
      button.textContent = (entry.name ? entry.name + " " : "") + entry.display;
      const meta = document.createElement("span");
      meta.className = "slds-text-body_small sp-log-meta";
      const when = new Date(entry.started_at).toLocaleString(document.documentElement.lang, {month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit"});
      meta.textContent = [entry.direction === "inbound" ? T.inbound : T.outbound_short, when,
        entry.duration_seconds != null ? duration(entry.duration_seconds) : "", T["outcome_" + entry.outcome],
        entry.disposition_label].filter(Boolean).join(" · ");
      li.append(button, meta);
      if (entry.note) {
        const note = document.createElement("span");
        note.className = "slds-text-body_small sp-log-note";
        note.textContent = entry.note;
        li.append(note);
      }
      return li;
    }));
    return log;
  }

  // --- polling -------------------------------------------------------------------------------

  // Refreshes overlap (a push hint, an action, the poll): an answer older than the one already
  // shown is dropped, so a slow early answer never puts back a state that has changed since.
  let refreshSent = 0;
  let refreshShown = 0;
  async function refresh() {
    lastRefresh = Date.now();
    const sent = ++refreshSent;
    try {
      const previous = me;
      const answer = await api("GET", "/acd/me");
      if (sent < refreshShown) return;
      refreshShown = sent;
      me = answer;
      if (me.call && (!wrap || wrap.callId !== me.call.call_id)) {
        startWrap({callId: me.call.call_id, direction: "inbound", number: me.call.caller_number, display: me.call.caller_display});
      } else if (!wrap && me.status === "wrap_up" && logCalls.length) {
        // The phone was (re)opened during the wrap-up: the call is the latest of the log.
        const last = logCalls[0];
        startWrap({callId: last.call_id, direction: last.direction, number: last.number, display: last.display});
      }
      render();
      window.dispatchEvent(new CustomEvent("ecti:me", {detail: me}));
      announce(previous, me);
      const hadCall = previous && (previous.call || previous.status === "on_call");
      if (hadCall && !me.call) refreshLog().catch(() => {});
    } catch (error) {
      showError(error.message);
    }
  }

  // --- events for CRM adapters (docs/softphone.md) -------------------------------------------
  // window gets "ecti:call" CustomEvents: {phase: "incoming" | "connected" | "ended" | "wrapped",
  // call_id, direction, number, display, ...}; "ended" carries the agent log's duration and
  // outcome, "wrapped" the disposition and note the agent saved.

  function emit(phase, detail) {
    window.dispatchEvent(new CustomEvent("ecti:call", {detail: Object.assign({phase: phase}, detail)}));
  }

  function announce(previous, current) {
    const was = (previous && previous.offer) || null;
    if (current.offer && (!was || was.call_id !== current.offer.call_id)) {
      notice("");
      emit("incoming", {call_id: current.offer.call_id, direction: "inbound", number: current.offer.caller_number,
                        display: current.offer.caller_display});
    }
    const before = (previous && previous.call) || null;
    if (current.call && (!before || before.call_id !== current.call.call_id)) {
      emit("connected", {call_id: current.call.call_id, direction: "inbound", number: current.call.caller_number,
                         display: current.call.caller_display});
    }
    if (before && (!current.call || current.call.call_id !== before.call_id)) {
      announceEnded({call_id: before.call_id, direction: "inbound", number: before.caller_number, display: before.caller_display});
    }
  }

  // The agent log's entry for a call: by id, or the latest outgoing call to ``number``.
  function findEntry(calls, call) {
    return calls.find((e) => (call.call_id ? e.call_id === call.call_id
      : e.direction === "outbound" && e.number === call.number && Date.parse(e.started_at) >= call.since - 60000)) || null;
  }

  // The ended call as the agent log has it once the carrier reported its end (duration, outcome).
  async function announceEnded(call) {
    let entry = null;
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        entry = findEntry((await api("GET", "/softphone/log")).calls, call);
      } catch (error) {
        entry = null;
      }
      if (entry && entry.outcome !== "in_progress" && entry.duration_seconds != null) break;
      await sleep(500);
    }
    const detail = Object.assign({}, call, entry ? {call_id: entry.call_id, started_at: entry.started_at,
      duration_seconds: entry.duration_seconds, outcome: entry.outcome} : {});
    if (call.direction === "outbound" && entry) {
      // Tell the agent in words why an outgoing call did not get through.
      const words = {busy: T.ended_busy, no_answer: T.ended_no_answer, failed: T.ended_failed, refused: T.ended_refused}[entry.outcome];
      if (words) notice(words + " (" + call.display + ")");
      if (wrap && !wrap.callId) wrap.callId = entry.call_id;
    }
    if (wrap && wrap.callId === detail.call_id) Object.assign(wrap, {duration_seconds: detail.duration_seconds, outcome: detail.outcome});
    emit("ended", detail);
    refreshLog().catch(() => {});
    render();
  }

  window.ectiSoftphone = {
    fillDial(number) {
      dialInput.value = number;
      dialInput.focus();
    },
    refresh: () => refresh(),
    refreshSlow: () => refreshSlow(),
    device: device,
    live: false,
  };

  async function refreshSlow() {
    lastSlowRefresh = Date.now();
    try {
      const [list, waiting, codes] = await Promise.all([api("GET", "/acd/agents"), api("GET", "/acd/waiting"), api("GET", "/dispositions")]);
      agents = list.agents;
      queues = waiting.queues;
      dispositions = codes.dispositions;
      renderAgents();
      renderDispositions();
      const count = waiting.queues.reduce((sum, q) => sum + q.waiting, 0);
      $(".sp-waiting").textContent = fill(T.waiting_count, {count: count});
    } catch (error) {
      // shown on the next fast refresh if it persists
    }
  }

  // --- wrap-up -------------------------------------------------------------------------------

  function startWrap(call) {
    wrap = Object.assign({saved: false}, call);
    $("#sp-disposition").value = "";
    $("#sp-note").value = "";
    $(".sp-wrap-saved").textContent = "";
  }

  async function saveWrap() {
    if (!wrap || !wrap.callId) return;
    const body = {disposition: $("#sp-disposition").value || null, note: $("#sp-note").value || null};
    const saved = await api("PUT", "/calls/" + wrap.callId + "/wrap-up", body);
    wrap.saved = true;
    $(".sp-wrap-saved").textContent = T.wrap_saved;
    emit("wrapped", {call_id: saved.call_id, direction: wrap.direction, number: wrap.number, display: wrap.display,
                     duration_seconds: wrap.duration_seconds, outcome: wrap.outcome,
                     disposition: saved.disposition, disposition_label: saved.disposition_label, note: saved.note});
    refreshLog().catch(() => {});
  }

  function closeWrap() {
    wrap = null;
    render();
  }

  // --- tokens --------------------------------------------------------------------------------

  let refreshTimer = null;
  async function fetchToken() {
    const token = await api("POST", "/softphone/token");
    clearTimeout(refreshTimer);
    // A new token a minute before the old one expires (at least halfway through short ones).
    const lead = Math.min(60, token.ttl_seconds / 2);
    refreshTimer = setTimeout(() => fetchToken().then((t) => device.updateToken(t.token)).catch((e) => showError(e.message)),
      (token.ttl_seconds - lead) * 1000);
    return token;
  }
  device.ontokenexpiring = () => fetchToken().then((t) => device.updateToken(t.token)).catch((e) => showError(e.message));

  async function startDevice() {
    const status = $(".sp-device");
    try {
      const token = await fetchToken();
      await device.register(token.token);
      status.textContent = T.device_ready;
      status.dataset.ready = "true";
    } catch (error) {
      status.textContent = T.device_offline;
      showError(error.message);
    }
  }

  device.onended = () => {
    const ended = outgoing;
    outgoing = null;
    if (ended) {
      announceEnded({call_id: ended.callId, direction: "outbound", number: ended.e164, display: ended.display, since: ended.startedAt});
    }
    render();
  };

  // The record of the outgoing call (made when the carrier asked ECTI what to dial).
  async function findOutgoingCall(call) {
    for (let attempt = 0; attempt < 20 && outgoing === call && !call.callId; attempt++) {
      try {
        const entry = findEntry((await api("GET", "/softphone/log")).calls, {number: call.e164, since: call.startedAt});
        if (entry) {
          call.callId = entry.call_id;
          if (wrap && wrap.number === call.e164 && !wrap.callId) wrap.callId = entry.call_id;
          render();
          return;
        }
      } catch (error) {
        // try again
      }
      await sleep(500);
    }
  }

  // --- actions -------------------------------------------------------------------------------

  const dialInput = $("#sp-dial-number");

  async function dial() {
    const callerId = $("#sp-caller-id").value;
    const number = dialInput.value.trim();
    showError("");
    notice("");
    const checked = await api("POST", "/softphone/check-number", {caller_id: callerId, number: number});
    if (!checked.allowed) {
      $(".sp-error").textContent = checked.message;
      return;
    }
    outgoing = {display: checked.display, e164: checked.e164, startedAt: Date.now(), callId: null, onHold: false};
    startWrap({callId: null, direction: "outbound", number: checked.e164, display: checked.display});
    render();
    try {
      await device.connect({To: checked.e164, CallerId: callerId});
      emit("connected", {call_id: null, direction: "outbound", number: checked.e164, display: checked.display});
      findOutgoingCall(outgoing);
    } catch (error) {
      outgoing = null;
      throw error;
    }
  }

  // Hold, resume and transfer go through the same API for inbound and outbound calls: the
  // server knows which call the agent is on.
  async function setHold(on) {
    await api("POST", on ? "/acd/me/call/hold" : "/acd/me/call/resume");
    if (outgoing && !me.call) outgoing.onHold = on;
  }

  async function transfer(body) {
    await api("POST", "/acd/me/call/transfer", body);
    $(".sp-transfer").hidden = true;
    $("[data-action=transfer-open]").setAttribute("aria-expanded", "false");
    if (outgoing && !me.call) notice(T.transferred);
  }

  function toggleSection(selector, button, open) {
    const panel = $(selector);
    panel.hidden = open === undefined ? !panel.hidden : !open;
    root.querySelectorAll("[data-action=" + button.dataset.action + "]").forEach((b) => b.setAttribute("aria-expanded", String(!panel.hidden)));
    return !panel.hidden;
  }

  // --- SMS -----------------------------------------------------------------------------------

  function smsNumber() {
    return $("#sp-sms-to").value.trim();
  }

  async function loadConversation() {
    const number = smsNumber();
    const list = $(".sp-sms-list");
    if (!number) {
      list.replaceChildren();
      return;
    }
    const data = await api("GET", "/messages?number=" + encodeURIComponent(number));
    if (!data.messages.length) {
      const li = document.createElement("li");
      li.className = "sp-sms-empty slds-text-body_small";
      li.textContent = T.sms_empty;
      list.replaceChildren(li);
      return;
    }
    list.replaceChildren(...data.messages.slice().reverse().map((m) => {
      const li = document.createElement("li");
      li.className = "sp-sms-message sp-sms-" + m.direction;
      const body = document.createElement("span");
      body.className = "sp-sms-body";
      body.textContent = m.body;
      const meta = document.createElement("span");
      meta.className = "sp-sms-meta slds-text-body_small";
      const when = new Date(m.created_at).toLocaleString(document.documentElement.lang, {month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit"});
      meta.textContent = [when, m.status_label, m.error_message].filter(Boolean).join(" · ");
      li.append(body, meta);
      return li;
    }));
    list.scrollTop = list.scrollHeight;
  }

  function openSms(button) {
    if (!toggleSection(".sp-sms", button)) return;
    const current = me && me.call ? me.call.caller_number : (outgoing ? outgoing.e164 : (wrap ? wrap.number : ""));
    if (current && current.startsWith("+")) $("#sp-sms-to").value = current;
    return loadConversation();
  }

  async function sendSms() {
    const to = smsNumber();
    if (!to) throw new Error(T.sms_no_number);
    const body = $("#sp-sms-body").value;
    const sent = await api("POST", "/messages", {from_number: $("#sp-sms-from").value, to: to, body: body});
    $("#sp-sms-body").value = "";
    $("#sp-sms-to").value = sent.remote_number;
    notice(sent.error_message || T.sms_sent);
    await loadConversation();
  }

  const actions = {
    accept: async () => {
      await api("POST", "/acd/me/offer/accept");
      await device.answer();
    },
    decline: async () => {
      await api("POST", "/acd/me/offer/decline");
      await device.decline().catch(() => {});
    },
    hold: (button) => setHold(button.getAttribute("aria-pressed") !== "true"),
    hangup: async () => {
      if (me && me.call) await api("POST", "/acd/me/call/hangup");
      else await device.hangup();
    },
    mute: async () => {
      await device.mute(!device.muted);
      render();
    },
    keypad: async (button) => {
      const pad = $(".sp-call-keypad");
      pad.hidden = !pad.hidden;
      button.setAttribute("aria-expanded", String(!pad.hidden));
    },
    "transfer-open": async (button) => {
      if (toggleSection(".sp-transfer", button)) await refreshSlow();
    },
    "transfer-agent": async () => {
      const agentId = Number($("#sp-transfer-agent").value);
      if (!agentId) throw new Error(T.choose_agent);
      await transfer({kind: "agent", agent_id: agentId});
    },
    "transfer-queue": async () => {
      const queueId = Number($("#sp-transfer-queue").value);
      if (!queueId) throw new Error(T.choose_queue);
      await transfer({kind: "queue", queue_id: queueId});
    },
    "transfer-number": () => transfer({kind: "number", number: $("#sp-transfer-number").value}),
    ready: async () => {
      if (wrap && wrap.callId && !wrap.saved && ($("#sp-disposition").value || $("#sp-note").value.trim())) await saveWrap();
      await api("POST", "/acd/me/wrap-up/end");
      closeWrap();
    },
    "wrap-save": saveWrap,
    "wrap-close": async () => closeWrap(),
    "sms-open": openSms,
    "sms-load": loadConversation,
    "sms-send": sendSms,
    "sms-close": async (button) => toggleSection(".sp-sms", root.querySelector("[data-action=sms-open]"), false),
    dial: dial,
  };

  root.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button || !root.contains(button) || button.closest(".dl")) return;
    if (button.dataset.key) {
      dialInput.value += button.dataset.key;
    } else if (button.dataset.dtmf) {
      act(() => device.sendDigits(button.dataset.dtmf));
    } else if (button.dataset.number) {
      dialInput.value = button.dataset.number;
      dialInput.focus();
    } else if (actions[button.dataset.action]) {
      act(() => actions[button.dataset.action](button));
    }
  });

  dialInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter") act(dial);
  });

  $(".sp-presence").addEventListener("change", (event) => {
    const [presence, reason] = event.target.value.split(/:(.*)/s);
    act(() => api("PUT", "/acd/me/presence", {presence: presence, reason: reason || null}));
  });

  // --- start ---------------------------------------------------------------------------------

  async function start() {
    await Promise.all([refresh(), startDevice(), refreshSlow(), refreshLog().catch(() => {})]);
    root.setAttribute("aria-busy", "false");
    root.dataset.ready = "true";
    window.ectiSoftphoneReadyAt = performance.now();  // read by benchmarks/softphone_ready.py
    const live = () => window.ectiSoftphone.live;
    setInterval(() => (live() && Date.now() - lastRefresh < LIVE_POLL_MS ? render() : refresh()), POLL_MS);
    setInterval(() => (live() && Date.now() - lastSlowRefresh < LIVE_POLL_MS ? null : refreshSlow()), SLOW_POLL_MS);
    setInterval(() => refreshLog().catch(() => {}), 15 * SLOW_POLL_MS);
  }
  start();
})();
