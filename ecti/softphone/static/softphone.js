// The softphone page: the agent's status, ringing calls, the current call, dialing and the log.
// Live state comes from polling the JSON API (every second for the agent, a few seconds for the
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

  const device = window.ECTIDevice.create({
    kind: root.dataset.device, simulatorUrl: root.dataset.simulator, sdkUrl: root.dataset.sdk,
  });
  let me = null;
  let clockSkew = 0;       // server time minus browser time, in ms
  let outgoing = null;     // {number, startedAt} while an outgoing call is up
  let lastCallId = null;
  let agents = [];

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

  // --- rendering -----------------------------------------------------------------------------

  function render() {
    if (!me) return;
    const status = outgoing ? "on_call" : me.status;
    const badge = $(".sp-status");
    badge.dataset.status = status;
    badge.textContent = (T[status] || me.status_label) + (me.status === "away" && me.away_reason ? " (" + me.away_reason + ")" : "");
    const presence = $(".sp-presence");
    if (document.activeElement !== presence) presence.value = me.presence;
    $(".sp-reason").hidden = presence.value !== "away";

    const ringing = $(".sp-ringing");
    ringing.hidden = !me.offer;
    if (me.offer) {
      ringing.querySelector(".sp-number").textContent = me.offer.caller_display;
      ringing.querySelector(".sp-queue").textContent = fill(T.queue_wait, {queue: me.offer.queue_name, wait: duration(me.offer.wait_seconds)});
      lookup(me.offer.caller_number, ringing.querySelector(".sp-name"));
    }

    const call = $(".sp-call");
    const inCall = Boolean(me.call) || Boolean(outgoing);
    call.hidden = !inCall;
    if (me.call) {
      call.querySelector(".sp-number").textContent = me.call.caller_display;
      const since = me.call.connected_at ? Date.parse(me.call.connected_at) : now();
      call.querySelector(".sp-timer").textContent = duration((now() - since) / 1000);
      const state = me.call.transfer_ringing_to
        ? fill(T.transfer_ringing, {name: agentName(me.call.transfer_ringing_to)})
        : (me.call.on_hold ? T.on_hold : "");
      call.querySelector(".sp-callstate").textContent = state;
      call.querySelector("[data-action=hold]").hidden = me.call.on_hold;
      call.querySelector("[data-action=resume]").hidden = !me.call.on_hold;
      call.querySelector("[data-action=transfer-open]").hidden = false;
      lastCallId = me.call.call_id;
    } else if (outgoing) {
      call.querySelector(".sp-number").textContent = outgoing.display;
      call.querySelector(".sp-timer").textContent = duration((Date.now() - outgoing.startedAt) / 1000);
      call.querySelector(".sp-callstate").textContent = T.outbound;
      call.querySelector("[data-action=hold]").hidden = true;
      call.querySelector("[data-action=resume]").hidden = true;
      call.querySelector("[data-action=transfer-open]").hidden = true;
    }
    const mute = call.querySelector("[data-action=mute]");
    mute.setAttribute("aria-pressed", String(Boolean(device.muted)));

    const wrap = $(".sp-wrapup");
    wrap.hidden = me.status !== "wrap_up";
    if (me.status === "wrap_up" && me.wrap_up_until) {
      wrap.querySelector(".sp-countdown").textContent = fill(T.wrap_up_left, {seconds: Math.max(0, Math.ceil((Date.parse(me.wrap_up_until) - now()) / 1000))});
    }
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

  function renderAgents() {
    const select = $("#sp-transfer-agent");
    const chosen = select.value;
    const options = [new Option(T.choose_agent, "")];
    for (const agent of agents) {
      if (agent.user_id === Number(root.dataset.user)) continue;
      const option = new Option(agent.display_name + " — " + agent.status_label, String(agent.user_id));
      option.disabled = agent.status !== "available";
      options.push(option);
    }
    select.replaceChildren(...options);
    select.value = chosen;
  }

  async function refreshLog() {
    const log = await api("GET", "/softphone/log");
    const list = $(".sp-log-list");
    if (!log.calls.length) {
      const li = document.createElement("li");
      li.className = "slds-item";
      li.textContent = T.no_calls;
      list.replaceChildren(li);
      return;
    }
    list.replaceChildren(...log.calls.map((entry) => {
      const li = document.createElement("li");
      li.className = "slds-item sp-log-item";
      li.dataset.callId = entry.call_id;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "slds-button sp-callback";
      button.dataset.number = entry.display;
      button.textContent = (entry.name ? entry.name + " " : "") + entry.display;
      const meta = document.createElement("span");
      meta.className = "slds-text-body_small sp-log-meta";
      const when = new Date(entry.started_at).toLocaleString(document.documentElement.lang, {month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit"});
      meta.textContent = [entry.direction === "inbound" ? T.inbound : T.outbound_short, when,
        entry.duration_seconds != null ? duration(entry.duration_seconds) : "", T["outcome_" + entry.outcome]].filter(Boolean).join(" · ");
      li.append(button, meta);
      return li;
    }));
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
  // window gets "ecti:call" CustomEvents: {phase: "incoming" | "connected" | "ended", call_id,
  // direction, number, display, ...}; "ended" carries the agent log's duration and outcome.

  function emit(phase, detail) {
    window.dispatchEvent(new CustomEvent("ecti:call", {detail: Object.assign({phase: phase}, detail)}));
  }

  function announce(previous, current) {
    const was = (previous && previous.offer) || null;
    if (current.offer && (!was || was.call_id !== current.offer.call_id)) {
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

  // The ended call as the agent log has it once the carrier reported its end (duration, outcome).
  async function announceEnded(call) {
    let entry = null;
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        const log = await api("GET", "/softphone/log");
        entry = log.calls.find((e) => (call.call_id ? e.call_id === call.call_id
          : e.direction === "outbound" && e.number === call.number && Date.parse(e.started_at) >= call.since - 60000)) || null;
      } catch (error) {
        entry = null;
      }
      if (entry && entry.outcome !== "in_progress" && entry.duration_seconds != null) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    emit("ended", Object.assign({}, call, entry ? {call_id: entry.call_id, started_at: entry.started_at,
      duration_seconds: entry.duration_seconds, outcome: entry.outcome} : {}));
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
      const [list, waiting] = await Promise.all([api("GET", "/acd/agents"), api("GET", "/acd/waiting")]);
      agents = list.agents;
      renderAgents();
      const count = waiting.queues.reduce((sum, q) => sum + q.waiting, 0);
      $(".sp-waiting").textContent = fill(T.waiting_count, {count: count});
    } catch (error) {
      // shown on the next fast refresh if it persists
    }
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
    if (outgoing) announceEnded({call_id: null, direction: "outbound", number: outgoing.e164, display: outgoing.display, since: outgoing.startedAt});
    outgoing = null;
    render();
    refreshLog().catch(() => {});
  };

  // --- actions -------------------------------------------------------------------------------

  const dialInput = $("#sp-dial-number");

  async function dial() {
    const callerId = $("#sp-caller-id").value;
    const number = dialInput.value.trim();
    showError("");
    const checked = await api("POST", "/softphone/check-number", {caller_id: callerId, number: number});
    if (!checked.allowed) {
      $(".sp-error").textContent = checked.message;
      return;
    }
    outgoing = {display: checked.display, e164: checked.e164, startedAt: Date.now()};
    render();
    try {
      await device.connect({To: checked.e164, CallerId: callerId});
      emit("connected", {call_id: null, direction: "outbound", number: checked.e164, display: checked.display});
    } catch (error) {
      outgoing = null;
      throw error;
    }
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
    hold: () => api("POST", "/acd/me/call/hold"),
    resume: () => api("POST", "/acd/me/call/resume"),
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
      const panel = $(".sp-transfer");
      panel.hidden = !panel.hidden;
      button.setAttribute("aria-expanded", String(!panel.hidden));
      if (!panel.hidden) await refreshSlow();
    },
    "transfer-agent": async () => {
      const agentId = Number($("#sp-transfer-agent").value);
      if (!agentId) throw new Error(T.choose_agent);
      await api("POST", "/acd/me/call/transfer", {kind: "agent", agent_id: agentId});
      $(".sp-transfer").hidden = true;
    },
    "transfer-number": async () => {
      await api("POST", "/acd/me/call/transfer", {kind: "number", number: $("#sp-transfer-number").value});
      $(".sp-transfer").hidden = true;
    },
    ready: () => api("POST", "/acd/me/wrap-up/end"),
    dial: dial,
  };

  root.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button || !root.contains(button)) return;
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
    const presence = event.target.value;
    $(".sp-reason").hidden = presence !== "away";
    act(() => api("PUT", "/acd/me/presence", {presence: presence, reason: presence === "away" ? $(".sp-reason").value : null}));
  });
  $(".sp-reason").addEventListener("change", () => {
    act(() => api("PUT", "/acd/me/presence", {presence: "away", reason: $(".sp-reason").value}));
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
