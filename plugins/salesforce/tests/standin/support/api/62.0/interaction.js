// A fake Open CTI for Salesforce Classic (test double: Salesforce cannot run here). Runs inside
// the softphone's frame, reports every call to the stand-in page, answers as Salesforce documents
// ({result, error}; results as JSON strings) and lets the page trigger click-to-dial.
(function () {
  "use strict";
  const home = new URL(document.currentScript.src).origin;
  const plain = (value) => JSON.parse(JSON.stringify(value, (key, v) => (typeof v === "function" ? "[function]" : v)));
  function record(method, args) {
    window.parent.postMessage({fakeSalesforce: "call", call: {method: method, args: plain(args)}}, home);
  }
  let clickListener = null;
  window.addEventListener("message", (event) => {
    if (event.origin === home && event.data && event.data.fakeSalesforce === "clickToDial" && clickListener) {
      const p = event.data.payload;
      clickListener({result: JSON.stringify({number: p.number, objectId: p.recordId, objectName: p.recordName || "", object: p.objectType})});
    }
  });
  function method(name, result) {
    return function () {
      const args = Array.prototype.slice.call(arguments);
      record(name, args);
      const callback = args.find((a) => typeof a === "function");
      if (callback) setTimeout(() => callback({result: result === undefined ? true : result}), 0);
    };
  }
  window.sforce = {
    interaction: {
      setVisible: method("setVisible"),
      searchAndScreenPop: method("searchAndScreenPop", JSON.stringify({
        "003000000000001AAA": {Name: "山田 太郎", object: "Contact"},
      })),
      saveLog: method("saveLog", true),
      cti: {
        enableClickToDial: method("enableClickToDial"),
        disableClickToDial: method("disableClickToDial"),
        onClickToDial: function (listener) {
          record("onClickToDial", [listener]);
          clickListener = listener;
        },
        notifyInitializationComplete: method("notifyInitializationComplete"),
      },
    },
  };
})();
