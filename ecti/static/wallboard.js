// The wallboard refreshes itself from the JSON API every 5 seconds (a static file: the CSP allows no inline script).
(function () {
  var url = document.getElementById("wallboard-queues").getAttribute("data-refresh-url");
  function text(el, value) { if (el) { el.textContent = value === null || value === undefined ? "" : value; } }
  function refresh() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}}).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
      if (!data) { return; }
      text(document.getElementById("wallboard-at"), new Date(data.at).toLocaleString());
      data.queues.forEach(function (q) {
        var row = document.querySelector('tr[data-queue="' + q.id + '"]');
        if (!row) { return; }
        ["waiting", "longest_wait_seconds", "agents_logged_in", "agents_available", "offered_today", "answered_today", "abandoned_today"].forEach(function (k) {
          text(row.querySelector('[data-key="' + k + '"]'), q[k]);
        });
        text(row.querySelector('[data-key="service_level_today"]'), q.service_level_today === null ? "" : Math.round(q.service_level_today * 1000) / 10);
      });
      Object.keys(data.agents_by_status).forEach(function (s) {
        text(document.querySelector('#wallboard-statuses [data-status="' + s + '"] strong'), data.agents_by_status[s]);
      });
      var body = document.querySelector("#wallboard-agents tbody");
      body.textContent = "";
      data.agents.forEach(function (a) {
        var tr = document.createElement("tr");
        [a.name, a.status_label, new Date(a.since).toLocaleString()].forEach(function (v) { var td = document.createElement("td"); td.textContent = v; tr.appendChild(td); });
        body.appendChild(tr);
      });
    }).catch(function () {});
  }
  setInterval(refresh, 5000);
})();
