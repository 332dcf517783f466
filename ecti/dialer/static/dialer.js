// The softphone's dialing-list panel (docs/dialer.md): join a list, see the row reserved for me
// when I am available, call it with the softphone's own dialer, record the result. The panel
// stays hidden for agents who are assigned to no list.
// It only talks to /api/v1/dialer and, to place the call, fills the softphone's caller ID and
// number fields and presses its Call button — the softphone's checks and device do the rest.
(function () {
  "use strict";
  const panel = document.querySelector(".dl");
  if (!panel) return;
  const T = JSON.parse(panel.querySelector(".dl-strings").textContent);
  const API = panel.dataset.api;
  const csrf = document.querySelector("meta[name=csrf-token]").content;
  const $ = (selector) => panel.querySelector(selector);
  const POLL_MS = 3000;
  let lists = [];
  let state = null;        // the last DialerState
  let countdown = null;    // {attemptId, left, timer} while an automatic dial counts down

  function fill(template, values) {
    return template.replace(/\$\{(\w+)\}/g, (_m, key) => (key in values ? values[key] : ""));
  }

  async function api(method, path, body) {
    const response = await fetch(API + path, {
      method: method, credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "application/json"},
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => null);
    if (!response.ok) throw new Error((data && data.error && data.error.message) || String(response.status));
    return data;
  }

  function say(message) {
    $(".dl-status").textContent = message || "";
  }

  function joined() {
    return lists.find((l) => l.joined);
  }

  function renderLists() {
    const select = $("#dl-list");
    const chosen = select.value;
    select.replaceChildren(...lists.map((l) => {
      const option = document.createElement("option");
      option.value = String(l.id);
      option.textContent = l.name + " (" + l.status_label + ")";
      return option;
    }));
    const current = joined();
    if (current) select.value = String(current.id);
    else if (chosen) select.value = chosen;
    select.disabled = Boolean(current);
    $("[data-dl=join]").hidden = Boolean(current) || !lists.length;
    $("[data-dl=leave]").hidden = !current;
    panel.hidden = !lists.length;  // only agents with a list see the panel
  }

  function renderRow() {
    const attempt = state && state.attempt;
    $(".dl-row").hidden = !attempt;
    if (!attempt) {
      stopCountdown();
      if (joined()) say(state ? state.message : "");
      return;
    }
    if ($(".dl-row").dataset.attempt !== String(attempt.id)) {
      $(".dl-row").dataset.attempt = String(attempt.id);
      $("#dl-note").value = "";
      $("#dl-outcome").value = "connected";
      $("#dl-callback").value = "";
      toggleCallback();
    }
    say("");
    $(".dl-name").textContent = attempt.name;
    $(".dl-number").textContent = attempt.display;
    const meta = [fill(T.row, {row: attempt.row_number}), fill(T.attempt, {attempt: attempt.attempt_no})];
    if (attempt.last_outcome) meta.push(fill(T.previous, {outcome: T.outcomes[attempt.last_outcome]}));
    $(".dl-meta").textContent = meta.join(" · ");
    $(".dl-columns").replaceChildren(...attempt.columns.flatMap((c) => {
      const dt = document.createElement("dt");
      dt.textContent = c.name;
      const dd = document.createElement("dd");
      dd.textContent = c.value;
      return [dt, dd];
    }));
    const dialing = attempt.status === "dialing";
    $(".dl-actions").hidden = dialing;
    $(".dl-result").hidden = !dialing;
    if (!dialing && attempt.preview_seconds > 0 && (!countdown || countdown.attemptId !== attempt.id)) startCountdown(attempt);
  }

  function startCountdown(attempt) {
    stopCountdown();
    countdown = {attemptId: attempt.id, left: attempt.preview_seconds, timer: null};
    const tick = () => {
      if (!countdown) return;
      if (countdown.left <= 0) {
        stopCountdown();
        act(call);
        return;
      }
      say(fill(T.auto_dial, {seconds: countdown.left}));
      countdown.left -= 1;
      countdown.timer = setTimeout(tick, 1000);
    };
    tick();
  }

  function stopCountdown() {
    if (countdown && countdown.timer) clearTimeout(countdown.timer);
    countdown = null;
  }

  async function refreshLists() {
    lists = (await api("GET", "/me/lists")).lists;
    renderLists();
  }

  async function refresh() {
    if (!joined()) {
      state = null;
      renderRow();
      return;
    }
    state = await api("POST", "/me/next");
    renderRow();
  }

  async function act(work) {
    try {
      await work();
    } catch (error) {
      say(error.message);
      return;
    }
    await refresh().catch((error) => say(error.message));
  }

  async function call() {
    stopCountdown();
    const attempt = state.attempt;
    const dialing = await api("POST", "/me/attempts/" + attempt.id + "/dial");
    state.attempt = dialing;
    renderRow();
    // The softphone's own dialer: its number check, its device, its call view.
    const softphone = document.getElementById("softphone");
    const callerId = softphone.querySelector("#sp-caller-id");
    if (!Array.from(callerId.options).some((o) => o.value === dialing.caller_id)) {
      callerId.add(new Option(dialing.caller_id, dialing.caller_id));
    }
    callerId.value = dialing.caller_id;
    softphone.querySelector("#sp-dial-number").value = dialing.number;
    softphone.querySelector("[data-action=dial]").click();
  }

  function toggleCallback() {
    const on = $("#dl-outcome").value === "callback";
    $("#dl-callback").hidden = !on;
    $(".dl-callback-label").hidden = !on;
  }

  const actions = {
    join: async () => {
      await api("POST", "/me/lists/" + $("#dl-list").value + "/join");
      await refreshLists();
    },
    leave: async () => {
      await api("POST", "/me/lists/" + joined().id + "/leave");
      await refreshLists();
    },
    call: call,
    skip: async () => {
      stopCountdown();
      state = await api("POST", "/me/attempts/" + state.attempt.id + "/skip");
    },
    save: async () => {
      const outcome = $("#dl-outcome").value;
      const body = {outcome: outcome, note: $("#dl-note").value || null};
      if (outcome === "callback") {
        if (!$("#dl-callback").value) throw new Error(T.callback_required);
        body.callback_at = new Date($("#dl-callback").value).toISOString();
      }
      await api("POST", "/me/attempts/" + state.attempt.id + "/result", body);
      state = null;
      say(T.saved);
    },
  };

  panel.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-dl]");
    if (button && actions[button.dataset.dl]) act(actions[button.dataset.dl]);
  });
  $("#dl-outcome").addEventListener("change", toggleCallback);

  $("#dl-outcome").replaceChildren(...Object.entries(T.outcomes).map(([value, label]) => new Option(label, value)));
  refreshLists().then(refresh).catch((error) => say(error.message));
  setInterval(() => refresh().catch(() => {}), POLL_MS);
  setInterval(() => refreshLists().catch(() => {}), 5 * POLL_MS);
})();
