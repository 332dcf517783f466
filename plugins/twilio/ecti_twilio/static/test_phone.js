// The test phone: drives the Twilio simulator's control API and shows what the caller hears.
(function () {
  "use strict";
  const root = document.getElementById("test-phone");
  const words = JSON.parse(document.getElementById("test-phone-words").textContent);
  const api = root.dataset.simulator.replace(/\/$/, "") + "/sim/v1";
  const keypad = root.querySelector(".keypad");
  const heard = root.querySelector(".heard");
  const status = root.querySelector(".status");
  let sid = null;

  async function post(path, body) {
    const response = await fetch(api + path, {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify(body || {}),
    });
    if (!response.ok) throw new Error(response.status + " " + (await response.text()));
    return response.json();
  }

  function show(call) {
    heard.replaceChildren(...call.heard.map((item) => {
      const li = document.createElement("li");
      if (item.verb === "Play") {
        const audio = document.createElement("audio");
        audio.controls = true;
        audio.src = item.url;
        li.append(audio);
      } else if (item.verb === "Say") {
        li.textContent = item.text;
      } else {
        li.textContent = words.verbs[item.verb] || words.verbs.other;
      }
      return li;
    }));
    const ended = ["completed", "busy", "failed", "no-answer", "canceled"].includes(call.status);
    keypad.hidden = ended;
    status.textContent = ended ? root.dataset.msgEnded : (words.statuses[call.status] || "");
  }

  async function act(promise) {
    try {
      show(await promise);
    } catch (error) {
      status.textContent = root.dataset.msgError.replace("%s", error.message);
    }
  }

  if (root.dataset.call) {
    // A test call the flow editor placed: show what the caller hears, keypad ready.
    sid = root.dataset.call;
    act(fetch(api + "/calls/" + sid).then((response) => {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    }));
  }

  root.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    if (button.dataset.action === "call") {
      const to = root.querySelector("[name=to]").value;
      const from = root.querySelector("[name=from]").value;
      act(post("/calls", {from: from, to: to}).then((call) => { sid = call.sid; return call; }));
    } else if (button.dataset.key && sid) {
      act(post("/calls/" + sid + "/press", {digits: button.dataset.key}));
    } else if (button.dataset.action && sid) {
      act(post("/calls/" + sid + "/" + button.dataset.action));
    }
  });
})();
