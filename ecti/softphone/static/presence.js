// The softphone's presence from the connection and its live updates (docs/softphone.md).
//
// * Heartbeat: while the phone's device is registered, presence-worker.js tells the server
//   every few seconds (POST /api/v1/acd/me/heartbeat); the device's "unregistered" is reported
//   at once. When the page goes away (tab closed, reload, navigation) navigator.sendBeacon says
//   so (POST /api/v1/acd/me/heartbeat/gone), so the agent is out of routing at once, not a
//   timeout later. A page restored from the back-forward cache starts beating again.
// * Live updates: ECTILive (ecti/static/live.js) opens the push stream; each hint calls the
//   softphone's own refresh (window.ectiSoftphone.refresh / refreshSlow), and while the stream
//   is up the softphone polls rarely (window.ectiSoftphone.live).
// * The server's word on the presence (me.presence_note: why the phone is disconnected, or why
//   the agent came back 離席中) is shown under the phone's status line.
(function () {
  "use strict";
  const root = document.getElementById("softphone");
  const phone = window.ectiSoftphone;
  if (!root || !phone) return;
  const API = root.dataset.api;
  const csrf = document.querySelector("meta[name=csrf-token]").content;
  const device = phone.device || null;  // (a softphone.js cached from before has no hooks)
  const refresh = () => (phone.refresh ? phone.refresh() : null);
  const refreshSlow = () => (phone.refreshSlow ? phone.refreshSlow() : null);
  const page = Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10);

  // --- heartbeat -----------------------------------------------------------------------------

  const worker = new Worker(root.dataset.presenceWorker);
  worker.postMessage({url: API + "/acd/me/heartbeat", csrf: csrf, page: page});
  worker.onmessage = (event) => {
    const data = event.data || {};
    root.dataset.heartbeat = data.error ? "failed" : (data.connected ? "ok" : "unregistered");
    if (data.presence_changed) refresh();
  };

  function deviceState(state) {
    root.dataset.deviceRegistration = state;
    worker.postMessage({device: state});
  }
  if (device) {
    const previousHook = device.onregistration;
    device.onregistration = (state) => {
      if (previousHook) previousHook(state);
      deviceState(state);
    };
    if (device.registered) deviceState("registered");
  } else {
    // Without the device's events: the page's "phone ready" line says it registered.
    const line = root.querySelector(".sp-device");
    const check = () => { if (line.dataset.ready === "true") deviceState("registered"); };
    new MutationObserver(check).observe(line, {attributes: true, attributeFilter: ["data-ready"]});
    check();
  }

  window.addEventListener("pagehide", () => {
    worker.postMessage({stop: true});
    navigator.sendBeacon(API + "/acd/me/heartbeat/gone", new URLSearchParams({csrf_token: csrf}));
  });
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) worker.postMessage({start: true});  // back from the back-forward cache
  });

  // --- the server's note on the presence -----------------------------------------------------

  const note = document.createElement("p");
  note.className = "slds-text-body_small slds-text-color_weak sp-presence-note";
  note.setAttribute("role", "status");
  note.hidden = true;
  root.querySelector(".sp-device").after(note);
  window.addEventListener("ecti:me", (event) => {
    const text = (event.detail && event.detail.presence_note) || "";
    note.textContent = text;
    note.hidden = !text;
  });

  // --- live updates --------------------------------------------------------------------------

  if (window.ECTILive) {
    phone.liveChannel = window.ECTILive.connect({
      api: API,
      csrf: csrf,
      on: {
        agent: refresh,
        agents: refreshSlow,
        queues: refreshSlow,
      },
      onstate: (connected) => {
        phone.live = connected;
        root.dataset.live = String(connected);
      },
    });
  }
})();
