/* The wallboard (ecti/reports/templates/wallboard.jinja2, docs/reports.md).
 *
 * The page arrives with every figure drawn. This script polls the wallboard API and writes the
 * new figures into the same elements (only where the text changed: no flicker), adds or removes
 * queue tiles and agent rows as they come and go, ticks the longest waits and the agents' time in
 * status every second, colours each figure and its tile at the queue's thresholds, and drives the
 * full-screen button. No inline script: the settings and the first figures come in JSON blocks.
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("wallboard-config").textContent);
  var state = null; // the last answer of the API
  var receivedAt = 0; // Date.now() when it arrived
  var failures = 0;

  function hms(seconds) {
    var s = Math.max(0, Math.round(seconds));
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    s = s % 60;
    return h + ":" + (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
  }

  function percent(value) {
    return value === null || value === undefined ? "—" : (value * 100).toFixed(1) + "%";
  }

  function setText(el, value) {
    if (el && el.textContent !== String(value)) { el.textContent = value; }
  }

  function setAttr(el, name, value) {
    if (el && el.getAttribute(name) !== value) { el.setAttribute(name, value); }
  }

  // The same rule as ecti.reports.wallboard.level: counts and waits from the threshold up, the
  // service level (percent) below it.
  function level(value, threshold, lowerIsWorse) {
    if (value === null || value === undefined) { return "green"; }
    if (lowerIsWorse) { return value < threshold.red ? "red" : value < threshold.amber ? "amber" : "green"; }
    return value >= threshold.red ? "red" : value >= threshold.amber ? "amber" : "green";
  }

  function elapsed() { return (Date.now() - receivedAt) / 1000; }

  function waitOf(q) { return q.waiting ? q.longest_wait_seconds + elapsed() : 0; }

  function paintLevels(tile, q) {
    var levels = {
      waiting: level(q.waiting, q.thresholds.waiting, false),
      longest_wait: level(q.waiting ? waitOf(q) : null, q.thresholds.wait, false),
      service_level: level(q.service_level_today === null ? null : q.service_level_today * 100, q.thresholds.service_level, true)
    };
    var worst = "green";
    Object.keys(levels).forEach(function (key) {
      setAttr(tile.querySelector('[data-figure="' + key + '"]'), "data-level", levels[key]);
      if (levels[key] === "red" || (levels[key] === "amber" && worst === "green")) { worst = levels[key]; }
    });
    setAttr(tile, "data-level", worst);
    setText(tile.querySelector('[data-key="tile_level"]'), config.levels[worst] || "");
  }

  function tileFor(q, container) {
    var tile = container.querySelector('[data-queue="' + q.id + '"]');
    if (!tile) {
      tile = document.getElementById("wallboard-tile").content.firstElementChild.cloneNode(true);
      tile.setAttribute("data-queue", q.id);
      tile.setAttribute("aria-labelledby", "wb-queue-" + q.id);
      tile.querySelector("h2").id = "wb-queue-" + q.id;
      container.appendChild(tile);
    }
    return tile;
  }

  function renderQueues(data) {
    var container = document.getElementById("wallboard-queues");
    var seen = {};
    data.queues.forEach(function (q) {
      var tile = tileFor(q, container);
      seen[String(q.id)] = true;
      setText(tile.querySelector('[data-key="name"]'), q.name);
      setText(tile.querySelector('[data-key="waiting"]'), q.waiting);
      setText(tile.querySelector('[data-key="longest_wait"]'), hms(waitOf(q)));
      setText(tile.querySelector('[data-key="service_level"]'), percent(q.service_level_today));
      setText(tile.querySelector('[data-key="answered"]'), q.answered_today);
      setText(tile.querySelector('[data-key="abandoned"]'), q.abandoned_today);
      setText(tile.querySelector('[data-key="callbacks"]'), q.callbacks_waiting || 0);
      setText(tile.querySelector('[data-key="agents"]'), q.agents_available + " / " + q.agents_logged_in);
      setText(tile.querySelector('[data-key="threshold"]'), q.service_level_threshold_seconds);
      paintLevels(tile, q);
    });
    Array.prototype.forEach.call(container.querySelectorAll("[data-queue]"), function (tile) {
      if (!seen[tile.getAttribute("data-queue")]) { tile.remove(); }
    });
    container.classList.toggle("wb-many", data.queues.length > 2);
    var empty = container.querySelector(".wb-empty");
    if (empty) { empty.hidden = data.queues.length > 0; }
  }

  function renderAgents(data) {
    Object.keys(data.agents_by_status).forEach(function (status) {
      setText(document.querySelector('#wallboard-statuses [data-status="' + status + '"] [data-key="count"]'), data.agents_by_status[status]);
    });
    var body = document.querySelector("#wallboard-agents tbody");
    var rows = {};
    Array.prototype.forEach.call(body.querySelectorAll("tr[data-agent]"), function (row) { rows[row.getAttribute("data-agent")] = row; });
    data.agents.forEach(function (a, index) {
      var row = rows[String(a.user_id)];
      if (!row) {
        row = document.createElement("tr");
        row.setAttribute("data-agent", a.user_id);
        row.innerHTML = '<td data-key="name"></td><td><span class="wb-status" data-key="status"></span></td><td class="wb-num" data-key="time_in_status"></td>' +
          '<td class="wb-monitor" data-key="monitor"></td>';
      }
      monitorCell(row, a, data);
      delete rows[String(a.user_id)];
      setAttr(row, "data-status", a.status);
      setText(row.querySelector('[data-key="name"]'), a.name);
      setText(row.querySelector('[data-key="status"]'), a.status_label);
      setText(row.querySelector('[data-key="time_in_status"]'), hms(a.seconds_in_status + elapsed()));
      if (body.children[index] !== row) { body.insertBefore(row, body.children[index] || null); }
    });
    Object.keys(rows).forEach(function (id) { rows[id].remove(); });
    document.getElementById("wallboard-no-agents").hidden = data.agents.length > 0;
  }

  // Live monitoring (issue 24): per agent on a call, buttons to listen, coach or barge in (the
  // viewer's softphone rings into the call), pressed for the current mode, and one to leave.
  function fill(text, values) {
    return text.replace(/\$\{(\w+)\}/g, function (_m, key) { return values[key] === undefined ? "" : values[key]; });
  }

  function monitorCell(row, a, data) {
    var cell = row.querySelector('[data-key="monitor"]');
    var mine = data.monitor && a.call_id && data.monitor.call_id === a.call_id ? data.monitor : null;
    var signature = (a.call_id || "") + ":" + (mine ? mine.mode : "");
    if (!cell || cell.getAttribute("data-sig") === signature) { return; }
    cell.setAttribute("data-sig", signature);
    cell.textContent = "";
    if (!a.call_id) { return; }
    var group = document.createElement("div");
    group.className = "wb-monitor-group";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", fill(config.texts.group, {name: a.name}));
    group.setAttribute("data-call", a.call_id);
    Object.keys(config.modes).forEach(function (mode) {
      var button = document.createElement("button");
      button.type = "button";
      button.setAttribute("data-mode", mode);
      button.setAttribute("aria-pressed", mine && mine.mode === mode ? "true" : "false");
      button.textContent = config.modes[mode];
      group.appendChild(button);
    });
    if (mine) {
      var leave = document.createElement("button");
      leave.type = "button";
      leave.setAttribute("data-mode", "leave");
      leave.textContent = config.texts.leave;
      group.appendChild(leave);
    }
    cell.appendChild(group);
  }

  function monitorStatus(text) { setText(document.getElementById("wallboard-monitor-status"), text); }

  function post(url, body) {
    var csrf = document.querySelector("meta[name=csrf-token]").content;
    return fetch(url, {
      method: "POST", credentials: "same-origin", body: JSON.stringify(body || {}),
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "application/json"}
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        if (!response.ok) { throw new Error((data && data.error && data.error.message) || String(response.status)); }
        return data;
      });
    });
  }

  function monitorClick(event) {
    var button = event.target.closest("button[data-mode]");
    if (!button || !state) { return; }
    var mode = button.getAttribute("data-mode");
    var callId = Number(button.closest("[data-call]").getAttribute("data-call"));
    var mine = state.monitor && state.monitor.call_id === callId ? state.monitor : null;
    var asked;
    if (mode === "leave") {
      asked = post(config.monitor_url + "/" + mine.id + "/end");
    } else if (mine) {
      asked = post(config.monitor_url + "/" + mine.id + "/mode", {mode: mode});
    } else {
      asked = post(config.monitor_url, {call_id: callId, mode: mode});
    }
    asked.then(function (session) {
      var starting = !mine && mode !== "leave";
      state.monitor = session.ended_at ? null : {id: session.id, call_id: session.call_id, mode: session.mode, mode_label: session.mode_label};
      monitorStatus(mode === "leave" ? config.texts.left : fill(starting ? config.texts.answer : config.texts.now, {mode: session.mode_label}));
      renderAgents(state);
      var again = document.querySelector('[data-call="' + callId + '"] button[data-mode="' + (mode === "leave" ? Object.keys(config.modes)[0] : mode) + '"]');
      if (again) { again.focus(); }
    }).catch(function (error) {
      monitorStatus(fill(config.texts.failed, {error: error.message}));
    });
  }

  function render(data) {
    state = data;
    receivedAt = Date.now();
    var clock = document.getElementById("wallboard-at");
    setText(clock, data.at_label);
    setAttr(clock, "datetime", data.at);
    renderQueues(data);
    renderAgents(data);
  }

  // Every second: the waits and times in status go on between two answers of the API.
  function tick() {
    if (!state) { return; }
    var container = document.getElementById("wallboard-queues");
    state.queues.forEach(function (q) {
      var tile = container.querySelector('[data-queue="' + q.id + '"]');
      if (!tile) { return; }
      setText(tile.querySelector('[data-key="longest_wait"]'), hms(waitOf(q)));
      paintLevels(tile, q);
    });
    state.agents.forEach(function (a) {
      setText(document.querySelector('#wallboard-agents tr[data-agent="' + a.user_id + '"] [data-key="time_in_status"]'),
        hms(a.seconds_in_status + elapsed()));
    });
  }

  function stale(on) {
    document.getElementById("wallboard-stale").hidden = !on;
    document.body.classList.toggle("wb-is-stale", on);
  }

  function refresh() {
    fetch(config.url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) { failures = 0; stale(false); render(data); })
      .catch(function () { failures += 1; if (failures >= 2) { stale(true); } })
      .then(function () { window.setTimeout(refresh, config.interval); });
  }

  // Full screen: the native Fullscreen API (a wall screen's browser, or F11 where it is refused).
  function fullscreenButton() {
    var button = document.getElementById("wallboard-fullscreen");
    var root = document.documentElement;
    if (!root.requestFullscreen) { button.hidden = true; return; }
    function sync() {
      var on = Boolean(document.fullscreenElement);
      setAttr(button, "aria-pressed", on ? "true" : "false");
      setText(button, on ? button.getAttribute("data-leave") : button.getAttribute("data-enter"));
      document.body.classList.toggle("wb-fullscreen", on);
    }
    button.addEventListener("click", function () {
      var asked = document.fullscreenElement ? document.exitFullscreen() : root.requestFullscreen({navigationUI: "hide"});
      if (asked && asked.catch) { asked.catch(function () { sync(); }); }
    });
    document.addEventListener("fullscreenchange", sync);
    sync();
  }

  document.addEventListener("DOMContentLoaded", function () {
    fullscreenButton();
    document.getElementById("wallboard-agents").addEventListener("click", monitorClick);
    render(JSON.parse(document.getElementById("wallboard-data").textContent));
    window.setInterval(tick, 1000);
    window.setTimeout(refresh, config.interval);
  });
})();
