// Live updates from the push server (Server-Sent Events), for any console page.
//
//   const live = ECTILive.connect({
//     api: "/api/v1",                      // the JSON API (POST {api}/push/token)
//     csrf: "…",                           // the page's CSRF token
//     on: {agent() {…}, agents() {…}, queues() {…}},   // what to refresh on each hint
//     onstate(connected) {…},              // the push channel came up / went down
//   });
//   live.connected   // true while the stream is open
//   live.close()
//
// A hint carries no data (only {ts}: when the change was committed): the page fetches what it
// already knows how to fetch. Kinds: "agent" (my presence, offer or call changed), "agents"
// (some agent's status), "queues" (waiting calls). Without a push server (the token answer says
// enabled: false) nothing connects and the page keeps polling. On any error the stream is closed
// and opened again with a new token, waiting longer each time (1 s … 30 s).
(function () {
  "use strict";

  function connect(options) {
    const handlers = options.on || {};
    const state = {connected: false, closed: false, source: null, delay: 1000, lastLatencyMs: null};

    function setConnected(value) {
      if (state.connected === value) return;
      state.connected = value;
      if (options.onstate) options.onstate(value);
    }

    async function token() {
      const response = await fetch(options.api + "/push/token", {
        method: "POST",
        credentials: "same-origin",
        headers: {"X-CSRF-Token": options.csrf, "Accept": "application/json"},
      });
      if (!response.ok) throw new Error("push token: " + response.status);
      return response.json();
    }

    function retry() {
      if (state.closed) return;
      const wait = state.delay;
      state.delay = Math.min(state.delay * 2, 30000);
      setTimeout(open, wait);
    }

    async function open() {
      if (state.closed) return;
      let grant;
      try {
        grant = await token();
      } catch (error) {
        retry();
        return;
      }
      if (!grant.enabled) return;  // no push server: polling only
      const source = new EventSource(grant.url + (grant.url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(grant.token));
      state.source = source;
      source.addEventListener("ready", () => {
        state.delay = 1000;
        setConnected(true);
        // Whatever changed while we were not connected: refresh everything once.
        for (const kind of Object.keys(handlers)) handlers[kind]({ts: Date.now(), resync: true});
      });
      for (const kind of Object.keys(handlers)) {
        source.addEventListener(kind, (event) => {
          let data = {};
          try { data = JSON.parse(event.data); } catch (error) { /* a hint is a hint */ }
          if (data.ts) state.lastLatencyMs = Date.now() - data.ts;
          handlers[kind](data);
        });
      }
      source.onerror = () => {
        // Closed by the server (token age), the network, or a refused token: start again.
        source.close();
        if (state.source === source) state.source = null;
        setConnected(false);
        retry();
      };
    }

    open();
    return {
      get connected() { return state.connected; },
      get lastLatencyMs() { return state.lastLatencyMs; },
      close() {
        state.closed = true;
        if (state.source) state.source.close();
        setConnected(false);
      },
    };
  }

  window.ECTILive = {connect: connect};
})();
