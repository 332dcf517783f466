// The browser-requirements check: WebRTC, audio and the microphone permission.
(function () {
  "use strict";
  const root = document.getElementById("sp-check");
  const cell = (name) => root.querySelector("[data-check=" + name + "]");
  const show = (name, ok, text) => {
    cell(name).textContent = text || (ok ? root.dataset.ok : root.dataset.ng);
    cell(name).dataset.ok = String(ok);
  };
  show("secure", window.isSecureContext);
  show("webrtc", typeof window.RTCPeerConnection === "function" && Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia));
  show("audio", typeof (window.AudioContext || window.webkitAudioContext) === "function");

  async function permission() {
    if (!navigator.permissions) return show("microphone", false);
    try {
      const state = (await navigator.permissions.query({name: "microphone"})).state;
      show("microphone", state === "granted", state === "denied" ? root.dataset.denied : (state === "granted" ? null : state));
    } catch (error) {
      show("microphone", false, error.message);
    }
  }

  root.querySelector("[data-action=microphone]").addEventListener("click", async () => {
    cell("microphone").textContent = root.dataset.asking;
    try {
      const stream = await navigator.mediaDevices.getUserMedia({audio: true});
      stream.getTracks().forEach((track) => track.stop());
      show("microphone", true);
    } catch (error) {
      show("microphone", false, error.name === "NotAllowedError" ? root.dataset.denied : error.message);
    }
  });
  permission();
})();
