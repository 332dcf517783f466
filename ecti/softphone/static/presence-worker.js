// The softphone's heartbeat, in a dedicated worker: a page in a background tab has its timers
// slowed to once a minute by the browser, a worker's are not, so the heartbeat keeps its pace.
// Messages in: {url, csrf, page} to set up, {device: "registered" | "unregistered"}, {stop: true}.
// Messages out: the heartbeat's answer ({connected, presence_changed, interval_seconds, …}) or {error}.
"use strict";

let config = {};
let timer = null;
let interval = 10;

async function beat() {
  clearTimeout(timer);
  if (config.stopped || !config.url || !config.device) return;
  const device = config.device;
  try {
    const response = await fetch(config.url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": config.csrf, "Accept": "application/json"},
      body: JSON.stringify({device: device, page: config.page}),
    });
    const data = await response.json().catch(() => ({}));
    if (response.ok) {
      interval = data.interval_seconds || interval;
      postMessage(data);
    } else {
      postMessage({error: (data.error && data.error.message) || String(response.status)});
    }
  } catch (error) {
    postMessage({error: String(error)});
  }
  // An unregistered device was reported once; the next heartbeat is when it registers again.
  if (device === "registered" && !config.stopped) timer = setTimeout(beat, interval * 1000);
}

onmessage = (event) => {
  const changedDevice = "device" in event.data && event.data.device !== config.device;
  config = Object.assign(config, event.data);
  if (event.data.stop) {
    clearTimeout(timer);
    return;
  }
  if (event.data.start) config.stopped = false;
  if (changedDevice || event.data.start) beat();
};
