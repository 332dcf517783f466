// A fake Open CTI for Lightning (test double: Salesforce cannot run here). It runs inside the
// softphone's frame, reports every call (method and arguments) to the stand-in page that
// served it, answers as Salesforce documents ({success, returnValue, errors}) and lets the page
// trigger the click-to-dial listener.
(function () {
  "use strict";
  const home = new URL(document.currentScript.src).origin;
  const plain = (value) => JSON.parse(JSON.stringify(value, (key, v) => (typeof v === "function" ? "[function]" : v)));
  function record(method, args) {
    window.parent.postMessage({fakeSalesforce: "call", call: {method: method, args: plain(args)}}, home);
  }
  const ok = (returnValue) => ({success: true, returnValue: returnValue === undefined ? null : returnValue, errors: null});
  let clickListener = null;
  window.addEventListener("message", (event) => {
    if (event.origin === home && event.data && event.data.fakeSalesforce === "clickToDial" && clickListener) {
      clickListener(event.data.payload);
    }
  });
  function method(name, answer) {
    return function (options) {
      record(name, [options || {}]);
      const callback = options && options.callback;
      if (callback) setTimeout(() => callback(ok(answer ? answer(options) : null)), 0);
    };
  }
  window.sforce = {
    opencti: {
      CALL_TYPE: {INBOUND: "inbound", OUTBOUND: "outbound", INTERNAL: "internal"},
      enableClickToDial: method("enableClickToDial"),
      disableClickToDial: method("disableClickToDial"),
      onClickToDial: function (options) {
        record("onClickToDial", [options]);
        clickListener = options.listener;
      },
      setSoftphonePanelVisibility: method("setSoftphonePanelVisibility"),
      notifyInitializationComplete: method("notifyInitializationComplete"),
      searchAndScreenPop: method("searchAndScreenPop", () => ({
        "003000000000001AAA": {Id: "003000000000001AAA", Name: "山田 太郎", RecordType: "Contact"},
      })),
      saveLog: method("saveLog", () => ({recordId: "00T000000000001AAA"})),
    },
  };
})();
