// The flow form (the visual editor's accessible fallback): warn before leaving with changes
// that were not saved. "Add the node" and "Check and save" submit the form, which is not leaving.
(function () {
  "use strict";
  var form = document.getElementById("flow-editor");
  if (!form) { return; }
  var state = document.getElementById("flow-form-state");
  var dirty = form.hasAttribute("data-unsaved"); // a node was just added, or the save was refused
  function show() { if (state) { state.hidden = !dirty; } }
  form.addEventListener("input", function () { dirty = true; show(); });
  form.addEventListener("change", function () { dirty = true; show(); });
  form.addEventListener("submit", function () { dirty = false; });
  window.addEventListener("beforeunload", function (event) {
    if (!dirty) { return undefined; }
    event.preventDefault();
    event.returnValue = "";
    return "";
  });
  show();
})();
