// The Salesforce stand-in's parent page (Lightning and Classic): embeds ECTI's softphone the way
// Salesforce does (the URL with the Salesforce origin), records every Open CTI call the fake
// scripts report, and lets a test click a phone number (click-to-dial).
(function () {
  "use strict";
  const params = new URLSearchParams(location.search);
  const ecti = params.get("ecti");
  const lightning = document.body.dataset.mode === "lightning";
  const query = lightning
    ? {tenant: params.get("tenant"), mode: "Lightning", sfdcIframeOrigin: location.origin, ltn_app_id: "06m000000000001", clc: "1"}
    : {tenant: params.get("tenant"), sfdcIFrameOrigin: location.origin, nonce: "abc123", isAdapterUrl: "true"};
  const frame = document.createElement("iframe");
  frame.title = "softphone";
  frame.width = "300";
  frame.height = "520";
  frame.allow = "microphone";
  frame.src = ecti + "/softphone?" + new URLSearchParams(query);
  document.getElementById("utility").appendChild(frame);

  window.recorded = [];
  window.addEventListener("message", (event) => {
    if (event.origin !== new URL(ecti).origin || !event.data || event.data.fakeSalesforce !== "call") return;
    window.recorded.push(event.data.call);
    const panel = document.getElementById("utility");
    const {method, args} = event.data.call;
    if (method === "setSoftphonePanelVisibility") panel.dataset.visible = String(args[0].visible);
    if (method === "setVisible") panel.dataset.visible = String(args[0]);
  });
  window.clickToDial = (payload) => frame.contentWindow.postMessage({fakeSalesforce: "clickToDial", payload: payload}, new URL(ecti).origin);
})();
