// The visual flow editor: the flow as a diagram (Cytoscape.js, laid out by dagre) beside a
// property panel for the selected step. Everything comes from the page's JSON block; the whole
// flow is posted to the server, which checks it and saves all of it or nothing.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("flow-editor-data").textContent);
  var T = data.texts;
  var types = {};
  data.types.forEach(function (t) { types[t.name] = t; });
  var prompts = {};
  data.prompts.forEach(function (p) { prompts[p.id] = p; });
  var NODE_ID = new RegExp(data.nodeId);
  var KIND_COLOURS = {
    announcement: "#0176d3", menu: "#9050e9", schedule: "#dd7a01", queue: "#2e844a",
    forward: "#0b827c", voicemail: "#b60554", hangup: "#747474"
  };

  var counter = 0;
  var flow = { name: data.flow.name, start: data.flow.start, nodes: [] };
  var selected = null; // a node's key (stable while its id is edited)
  var problems = [];   // the server's answer to the last save
  var dirty = false;
  var cy;

  function keyed(node) {
    counter += 1;
    return { key: "k" + counter, id: node.id, type: node.type, settings: node.settings || {}, next: node.next || {} };
  }
  data.flow.nodes.forEach(function (n) { flow.nodes.push(keyed(n)); });

  // --- small DOM helpers -------------------------------------------------------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) { return; }
      if (name === "text") { node.textContent = value; } else if (name === "className") { node.className = value; } else { node.setAttribute(name, value === true ? "" : value); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(typeof child === "string" ? document.createTextNode(child) : child); } });
    return node;
  }
  function byKey(key) { return flow.nodes.filter(function (n) { return n.key === key; })[0] || null; }
  function byId(id) { return flow.nodes.filter(function (n) { return n.id === id; })[0] || null; }
  function indexOf(node) { return flow.nodes.indexOf(node); }
  function truncate(text, size) { text = String(text || "").replace(/\s+/g, " ").trim(); return text.length > size ? text.slice(0, size - 1) + "…" : text; }

  function exitsOf(node) {
    var type = types[node.type];
    if (!type) { return Object.keys(node.next); }
    var digits = type.digitExits && Array.isArray(node.settings.digits) ? node.settings.digits.slice() : [];
    return digits.concat(type.exits.filter(function (e) { return digits.indexOf(e) < 0; }));
  }
  function exitLabel(exit) { return data.exitLabels[exit] || T.key.replace("{digit}", exit); }
  function edgeLabel(exit) { return data.edgeLabels[exit] || exitLabel(exit); }

  function promptSummary(ref) {
    if (!ref) { return ""; }
    if (ref.prompt_id && prompts[ref.prompt_id]) { return "♪ " + prompts[ref.prompt_id].name; }
    if (ref.text) { return "「" + truncate(ref.text, 24) + "」"; }
    return "";
  }
  function choiceLabel(field, value) {
    var found = field.choices.filter(function (c) { return String(c[0]) === String(value); })[0];
    return found ? found[1] : "";
  }
  function summary(node) {
    var type = types[node.type];
    if (!type) { return ""; }
    var lines = [];
    type.fields.forEach(function (field) {
      var value = node.settings[field.name];
      if (value === undefined || value === null || value === "" || lines.length >= 2) { return; }
      if (field.widget === "prompt") {
        if (lines.filter(function (l) { return l.charAt(0) === "♪" || l.charAt(0) === "「"; }).length === 0) { lines.push(promptSummary(value)); }
      } else if (field.widget === "select" && field.ref) {
        lines.push(choiceLabel(field, value));
      } else if (field.widget === "list" && field.phone) {
        lines.push(truncate((value || []).join("、"), 26));
      } else if (field.widget === "list") {
        lines.push(T.keys.replace("{keys}", (value || []).join(" ")));
      }
    });
    return lines.filter(Boolean).join("\n") || (type.fields.some(function (f) { return f.widget === "prompt" && f.required; }) ? T.emptyPrompt : "");
  }

  // --- problems from the server ------------------------------------------------------------
  function problemsOf(node) {
    var i = indexOf(node);
    return problems.filter(function (p) { return p.index === i; });
  }
  function generalProblems() { return problems.filter(function (p) { return p.index === null; }); }

  // --- state: unsaved changes --------------------------------------------------------------
  var state = document.getElementById("save-state");
  function setState(name, text) { state.setAttribute("data-state", name); state.textContent = text; }
  function markDirty() {
    if (!dirty) { dirty = true; setState("dirty", T.unsaved); }
  }
  window.addEventListener("beforeunload", function (event) {
    if (!dirty) { return undefined; }
    event.preventDefault();
    event.returnValue = T.leave;
    return T.leave;
  });

  // --- the diagram -------------------------------------------------------------------------
  function elements() {
    var out = [{ group: "nodes", data: { id: "__start", label: T.start }, classes: "start" }];
    flow.nodes.forEach(function (node) {
      var type = types[node.type];
      var head = type ? type.label : node.type;
      var body = summary(node);
      out.push({
        group: "nodes",
        data: { id: node.key, label: head + (body ? "\n" + body : ""), kind: node.type, stepId: node.id },
        classes: problemsOf(node).length ? "problem" : ""
      });
    });
    var start = byId(flow.start);
    if (start) { out.push({ group: "edges", data: { id: "__start-edge", source: "__start", target: start.key, label: "" } }); }
    flow.nodes.forEach(function (node) {
      var byTarget = {}; // one edge per target, labelled with every exit that leads there
      exitsOf(node).forEach(function (exit) {
        var target = byId(node.next[exit]);
        if (!target) { return; }
        if (!byTarget[target.key]) {
          byTarget[target.key] = { group: "edges", data: { id: node.key + "->" + target.key, source: node.key, target: target.key, label: edgeLabel(exit) }, fallback: true };
          out.push(byTarget[target.key]);
        } else {
          byTarget[target.key].data.label += "\n" + edgeLabel(exit);
        }
        if (exit !== "fallback" && exit !== "no_answer") { byTarget[target.key].fallback = false; }
      });
      Object.keys(byTarget).forEach(function (k) { byTarget[k].classes = byTarget[k].fallback ? "fallback" : ""; delete byTarget[k].fallback; });
    });
    return out;
  }

  var FONT = "Salesforce Sans, Arial, Hiragino Sans, Noto Sans JP, Meiryo, sans-serif";
  var STYLE = [
    { selector: "node", style: {
      shape: "round-rectangle", width: 230, height: 76, "background-color": "#ffffff", "z-index-compare": "manual", "z-index": 1,
      "background-fill": "linear-gradient", "background-gradient-direction": "to-bottom",
      "background-gradient-stop-colors": "#747474 #747474 #ffffff #ffffff",
      "background-gradient-stop-positions": "0% 9% 9% 100%",
      "border-width": 1, "border-color": "#c9c9c9", label: "data(label)", "text-wrap": "wrap", "text-max-width": 210,
      "text-valign": "center", "text-halign": "center", "font-size": 13, "line-height": 1.35, color: "#181818",
      "font-family": FONT,
      "text-margin-y": 4
    } },
  ].concat(Object.keys(KIND_COLOURS).map(function (kind) {
    var c = KIND_COLOURS[kind];
    return { selector: "node[kind = \"" + kind + "\"]", style: { "background-gradient-stop-colors": c + " " + c + " #ffffff #ffffff" } };
  })).concat([
    { selector: "node.start", style: {
      shape: "round-rectangle", width: 96, height: 36, "background-fill": "solid", "background-color": "#2e844a",
      "border-width": 0, color: "#ffffff", "font-weight": "bold", "text-margin-y": 0
    } },
    { selector: "node.problem", style: { "border-width": 3, "border-color": "#ba0517", "background-gradient-stop-colors": "#ba0517 #ba0517 #fef1ee #fef1ee" } },
    { selector: "node:selected", style: { "border-width": 3, "border-color": "#0176d3", "overlay-opacity": 0 } },
    { selector: "node.problem:selected", style: { "border-color": "#ba0517", "underlay-color": "#0176d3", "underlay-padding": 4, "underlay-opacity": 0.35 } },
    { selector: "edge", style: {
      width: 2, "z-index-compare": "manual", "z-index": 10, "control-point-step-size": 110, "line-color": "#8e9aaf", "target-arrow-color": "#8e9aaf", "target-arrow-shape": "triangle", "curve-style": "bezier",
      label: "data(label)", "font-size": 12, color: "#3e3e3c", "text-background-color": "#f3f3f3", "text-background-opacity": 1,
      "text-background-padding": 3, "text-background-shape": "round-rectangle", "text-rotation": "none", "text-wrap": "wrap",
      "font-family": FONT
    } },
    { selector: "edge.fallback", style: { "line-style": "dashed" } }
  ]);

  function layout() {
    cy.layout({ name: "dagre", rankDir: "TB", nodeSep: 50, rankSep: 70, edgeSep: 20, fit: true, padding: 30, animate: false }).run();
    if (cy.zoom() > 1.1) { cy.zoom(1.1); cy.center(); }
    if (cy.zoom() < 0.8) { // readable first: the start at the top, the rest a scroll away
      cy.zoom(0.8);
      var first = cy.getElementById("__start");
      cy.pan({ x: cy.width() / 2 - first.position("x") * 0.8, y: 40 - first.position("y") * 0.8 });
    }
  }

  function redraw(relayout) {
    if (!cy) { return; }
    if (relayout) {
      cy.elements().remove();
      cy.add(elements());
      layout();
    } else {
      elements().forEach(function (item) {
        var existing = cy.getElementById(item.data.id);
        if (existing.nonempty()) { existing.data(item.data); existing.classes(item.classes || ""); }
      });
    }
    cy.nodes().unselect();
    if (selected) { cy.getElementById(selected).select(); }
    fillJump();
  }

  // --- the property panel ------------------------------------------------------------------
  var panelTitle = document.getElementById("panel-title");
  var panelBody = document.getElementById("panel-body");

  function formElement(label, control, help, error, id) {
    var wrapper = el("div", { className: "slds-form-element" + (error && error.length ? " slds-has-error" : "") }, [
      el("label", { className: "slds-form-element__label", for: id, text: label }),
      el("div", { className: "slds-form-element__control" }, [control])
    ]);
    if (help) { wrapper.appendChild(el("div", { className: "slds-form-element__help flow-designer__hint", text: help })); }
    (error || []).forEach(function (message) {
      wrapper.appendChild(el("div", { className: "slds-form-element__help", role: "alert", text: message }));
    });
    return wrapper;
  }

  function fieldErrors(node, name) {
    return problemsOf(node).filter(function (p) { return p.part === "settings" && p.field === name; }).map(function (p) { return p.message; });
  }

  function setSetting(node, name, value) {
    if (value === undefined || value === null || value === "" || (Array.isArray(value) && !value.length)) { delete node.settings[name]; } else { node.settings[name] = value; }
    markDirty();
  }

  function player(getSource) {
    var audio = el("audio", { controls: true, preload: "none", className: "flow-designer__audio" });
    audio.hidden = true;
    var error = el("div", { className: "slds-form-element__help slds-text-color_error", role: "alert" });
    var button = el("button", { type: "button", className: "slds-button slds-button_neutral flow-designer__play", text: "▶ " + T.play });
    button.addEventListener("click", function () {
      error.textContent = "";
      button.disabled = true;
      Promise.resolve(getSource()).then(function (src) {
        if (!src) { return; }
        audio.src = src;
        audio.hidden = false;
        return audio.play().catch(function () { /* autoplay refused: the controls are there */ });
      }).catch(function (err) { error.textContent = (err && err.message) || T.playFailed; })
        .then(function () { button.disabled = false; });
    });
    return el("div", { className: "flow-designer__player" }, [button, audio, error]);
  }

  function listenToText(text) {
    var form = new FormData();
    form.append("csrf_token", csrfToken());
    form.append("text", text);
    form.append("provider", data.carrier || "");
    form.append("emotion", "normal");
    return fetch(data.urls.listen, { method: "POST", body: form, credentials: "same-origin" }).then(function (response) {
      if (response.ok) { return response.blob().then(function (blob) { return URL.createObjectURL(blob); }); }
      return response.json().then(function (body) { throw new Error(body.error || T.playFailed); });
    });
  }

  function promptControl(node, field, id) {
    var ref = node.settings[field.name] || null;
    var mode = ref && ref.prompt_id ? "library" : (ref && ref.text ? "text" : (field.required ? "text" : "none"));
    var box = el("div", { className: "flow-designer__prompt", "data-prompt-field": field.name });
    var modes = [["text", T.promptText], ["library", T.promptLibrary]];
    if (!field.required) { modes.unshift(["none", T.promptNone]); }
    var group = el("div", { className: "slds-radio_button-group", role: "radiogroup", "aria-label": field.label });
    var area = el("div", { className: "flow-designer__prompt-body" });
    modes.forEach(function (m) {
      var radioId = id + "-" + m[0];
      var input = el("input", { type: "radio", name: id + "-mode", id: radioId, value: m[0], checked: m[0] === mode });
      input.addEventListener("change", function () { mode = m[0]; apply(); renderBody(); });
      group.appendChild(el("span", { className: "slds-button slds-radio_button" }, [input, el("label", { className: "slds-radio_button__label", for: radioId }, [el("span", { className: "slds-radio_faux", text: m[1] })])]));
    });
    var text = ref && ref.text ? ref.text : "";
    var promptId = ref && ref.prompt_id ? ref.prompt_id : "";
    function apply() {
      if (mode === "none") { setSetting(node, field.name, null); } else if (mode === "text") { setSetting(node, field.name, text.trim() ? { text: text } : null); } else { setSetting(node, field.name, promptId ? { prompt_id: Number(promptId) } : null); }
      redraw(false);
    }
    function renderBody() {
      area.textContent = "";
      if (mode === "text") {
        var textarea = el("textarea", { className: "slds-textarea", id: id, rows: 3, maxlength: 500, "aria-label": field.label });
        textarea.value = text;
        textarea.addEventListener("input", function () { text = textarea.value; apply(); });
        area.appendChild(textarea);
        area.appendChild(el("div", { className: "flow-designer__hint", text: T.carrierVoice }));
        area.appendChild(player(function () { return text.trim() ? listenToText(text) : null; }));
      } else if (mode === "library") {
        var select = el("select", { className: "slds-select", id: id, "aria-label": field.label });
        select.appendChild(el("option", { value: "", text: T.choosePrompt }));
        var groups = {};
        data.prompts.forEach(function (p) {
          if (!groups[p.kind]) { groups[p.kind] = el("optgroup", { label: p.kindLabel }); select.appendChild(groups[p.kind]); }
          groups[p.kind].appendChild(el("option", { value: String(p.id), text: p.name, selected: String(p.id) === String(promptId) }));
        });
        var detail = el("div", { className: "flow-designer__hint", "data-prompt-detail": true });
        function showDetail() {
          var p = prompts[select.value];
          detail.textContent = p ? p.kindLabel + " · " + p.detail + (p.text ? " — " + truncate(p.text, 60) : "") : (data.prompts.length ? "" : T.noPrompts);
        }
        select.addEventListener("change", function () { promptId = select.value; showDetail(); apply(); });
        showDetail();
        area.appendChild(select);
        area.appendChild(detail);
        area.appendChild(player(function () { return prompts[select.value] ? prompts[select.value].audio : null; }));
      }
    }
    renderBody();
    box.appendChild(group);
    box.appendChild(area);
    return box;
  }

  function control(node, field, id) {
    var value = node.settings[field.name];
    var input;
    if (field.widget === "prompt") { return promptControl(node, field, id); }
    if (field.widget === "select") {
      input = el("select", { className: "slds-select", id: id });
      input.appendChild(el("option", { value: "", text: T.none }));
      field.choices.forEach(function (c) { input.appendChild(el("option", { value: String(c[0]), text: c[1], selected: String(c[0]) === String(value) })); });
      input.addEventListener("change", function () {
        var v = input.value;
        setSetting(node, field.name, v === "" ? null : (field.ref ? Number(v) : v));
        redraw(false);
      });
      return input;
    }
    if (field.widget === "integer") {
      input = el("input", { type: "number", className: "slds-input", id: id, min: field.min, max: field.max, value: value === undefined ? "" : String(value) });
      input.addEventListener("input", function () { setSetting(node, field.name, input.value === "" ? null : Number(input.value)); });
      return input;
    }
    if (field.widget === "checkbox") {
      input = el("input", { type: "checkbox", id: id, checked: !!value });
      input.addEventListener("change", function () { setSetting(node, field.name, input.checked); });
      return input;
    }
    if (field.widget === "list" && field.phone) {
      input = el("textarea", { className: "slds-textarea", id: id, rows: 3 });
      input.value = (value || []).join("\n");
      input.addEventListener("input", function () {
        setSetting(node, field.name, input.value.split(/[\n,、]+/).map(function (s) { return s.trim(); }).filter(Boolean));
        redraw(false);
      });
      input.addEventListener("change", function () { checkNumbers(input, node.settings[field.name] || []); });
      return input;
    }
    if (field.widget === "list") {
      input = el("input", { className: "slds-input", id: id, value: (value || []).join(", ") });
      input.addEventListener("change", function () {
        setSetting(node, field.name, input.value.split(/[\s,、]+/).map(function (s) { return s.trim(); }).filter(Boolean));
        renderPanel();
        redraw(true);
      });
      return input;
    }
    input = el("input", { className: "slds-input", id: id, value: value === undefined ? "" : String(value) });
    input.addEventListener("input", function () { setSetting(node, field.name, input.value); });
    return input;
  }

  // Numbers the flow calls: the softphone's dialing rules, asked while the admin types.
  function checkNumbers(input, numbers) {
    var wrapper = input.closest(".slds-form-element");
    Array.prototype.forEach.call(wrapper.querySelectorAll("[data-live-check]"), function (old) { old.remove(); });
    Promise.all(numbers.map(function (number) {
      return fetch(data.urls.checkNumber, {
        method: "POST", credentials: "same-origin", body: JSON.stringify({ number: number }),
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken(), Accept: "application/json" }
      }).then(function (response) { return response.json(); }).catch(function () { return { allowed: true }; });
    })).then(function (answers) {
      var refused = answers.filter(function (a) { return !a.allowed; });
      wrapper.classList.toggle("slds-has-error", refused.length > 0);
      refused.forEach(function (a) {
        wrapper.appendChild(el("div", { className: "slds-form-element__help", role: "alert", "data-live-check": true, text: a.message }));
      });
    });
  }

  function targetSelect(node, exit, id) {
    var select = el("select", { className: "slds-select", id: id, "data-exit": exit });
    select.appendChild(el("option", { value: "", text: T.hangUp }));
    flow.nodes.forEach(function (other) {
      var type = types[other.type];
      select.appendChild(el("option", { value: other.id, text: (type ? type.label : other.type) + " — " + other.id, selected: node.next[exit] === other.id }));
    });
    select.addEventListener("change", function () {
      if (select.value) { node.next[exit] = select.value; } else { delete node.next[exit]; }
      markDirty();
      redraw(true);
    });
    return select;
  }

  function renderFlowPanel() {
    panelTitle.textContent = flow.name;
    panelBody.textContent = "";
    var name = el("input", { className: "slds-input", id: "flow-name", value: flow.name, maxlength: 100 });
    name.addEventListener("input", function () { flow.name = name.value; markDirty(); });
    var nameErrors = generalProblems().filter(function (p) { return p.field === "name"; }).map(function (p) { return p.message; });
    panelBody.appendChild(formElement(T.flowName, name, null, nameErrors, "flow-name"));
    panelBody.appendChild(el("p", { className: "flow-designer__hint", text: T.flowHint }));
  }

  function renderNodePanel(node) {
    var type = types[node.type] || { label: node.type, fields: [], exits: [] };
    panelTitle.textContent = type.label;
    panelBody.textContent = "";
    var mine = problemsOf(node);
    var general = mine.filter(function (p) { return !(p.part === "settings" && type.fields.some(function (f) { return f.name === p.field; })) && p.part !== "next"; });
    if (general.length) {
      panelBody.appendChild(el("div", { className: "slds-box slds-theme_error flow-designer__step-problems", role: "alert" }, [
        el("strong", { text: T.stepProblems }),
        el("ul", {}, general.map(function (p) { return el("li", { text: p.message }); }))
      ]));
    }
    var idInput = el("input", { className: "slds-input", id: "step-id", value: node.id, maxlength: 40, required: true });
    var idError = el("div", { className: "slds-form-element__help", role: "alert" });
    idInput.addEventListener("change", function () {
      var value = idInput.value.trim();
      if (!NODE_ID.test(value) || (byId(value) && byId(value) !== node)) { idError.textContent = T.stepName; idInput.value = node.id; return; }
      idError.textContent = "";
      var old = node.id;
      flow.nodes.forEach(function (other) { Object.keys(other.next).forEach(function (exit) { if (other.next[exit] === old) { other.next[exit] = value; } }); });
      if (flow.start === old) { flow.start = value; }
      node.id = value;
      markDirty();
      redraw(true);
    });
    var idElement = formElement(T.stepName, idInput, null, null, "step-id");
    idElement.appendChild(idError);
    panelBody.appendChild(idElement);

    type.fields.forEach(function (field) {
      var id = "field-" + field.name;
      var help = field.widget === "list" ? (field.phone ? T.numbersHint : T.digitsHint) : null;
      var element = formElement(field.label + (field.required ? " *" : ""), control(node, field, id), help, fieldErrors(node, field.name), id);
      element.setAttribute("data-field", field.name);
      panelBody.appendChild(element);
    });

    var exits = exitsOf(node);
    var section = el("fieldset", { className: "slds-form-element flow-designer__exits" }, [el("legend", { className: "slds-form-element__legend slds-form-element__label", text: T.exits })]);
    if (!exits.length) { section.appendChild(el("p", { className: "flow-designer__hint", text: T.noExits })); }
    exits.forEach(function (exit) {
      var id = "exit-" + exit.replace(/[^A-Za-z0-9_-]/g, function (c) { return "_" + c.charCodeAt(0); });
      var errors = mine.filter(function (p) { return p.part === "next" && p.field === exit; }).map(function (p) { return p.message; });
      var element = formElement(exitLabel(exit) + " →", targetSelect(node, exit, id), null, errors, id);
      element.setAttribute("data-exit-field", exit);
      section.appendChild(element);
    });
    panelBody.appendChild(section);

    var startButton = el("button", { type: "button", className: "slds-button slds-button_neutral", text: flow.start === node.id ? T.isStart : T.setStart, disabled: flow.start === node.id });
    startButton.addEventListener("click", function () { flow.start = node.id; markDirty(); redraw(true); renderPanel(); });
    var deleteButton = el("button", { type: "button", className: "slds-button slds-button_text-destructive", text: T.delete });
    deleteButton.addEventListener("click", function () {
      if (!window.confirm(T.confirmDelete)) { return; }
      flow.nodes.splice(indexOf(node), 1);
      flow.nodes.forEach(function (other) { Object.keys(other.next).forEach(function (exit) { if (other.next[exit] === node.id) { delete other.next[exit]; } }); });
      problems = [];
      selected = null;
      markDirty();
      redraw(true);
      renderPanel();
    });
    panelBody.appendChild(el("div", { className: "flow-designer__step-actions" }, [startButton, deleteButton]));
  }

  function renderPanel() {
    var node = selected ? byKey(selected) : null;
    if (node) { renderNodePanel(node); } else { renderFlowPanel(); }
  }

  function select(key, center) {
    selected = key;
    if (cy) {
      cy.nodes().unselect();
      if (key) {
        var element = cy.getElementById(key);
        element.select();
        if (center) { cy.animate({ center: { eles: element }, duration: 150 }); }
      }
    }
    document.getElementById("jump-to").value = key || "";
    renderPanel();
  }

  // --- palette, jump, fit ------------------------------------------------------------------
  function newId() { // a neutral name the admin may change ("step-3")
    var n = 1;
    while (byId("step-" + n)) { n += 1; }
    return "step-" + n;
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-add-type]"), function (button) {
    button.addEventListener("click", function () {
      var type = button.getAttribute("data-add-type");
      var node = keyed({ id: newId(), type: type, settings: {}, next: {} });
      flow.nodes.push(node);
      markDirty();
      selected = node.key;
      redraw(true);
      select(node.key, false);
    });
  });
  var jump = document.getElementById("jump-to");
  function fillJump() {
    var current = jump.value;
    jump.textContent = "";
    jump.appendChild(el("option", { value: "", text: T.flowName }));
    flow.nodes.forEach(function (node) {
      var type = types[node.type];
      jump.appendChild(el("option", { value: node.key, text: (type ? type.label : node.type) + " — " + node.id }));
    });
    jump.value = selected || current || "";
  }
  jump.addEventListener("change", function () { select(jump.value || null, true); });
  document.getElementById("fit-diagram").addEventListener("click", function () { cy.fit(undefined, 30); });

  // --- saving ------------------------------------------------------------------------------
  function csrfToken() {
    var meta = document.querySelector("meta[name=csrf-token]");
    return meta ? meta.getAttribute("content") : "";
  }
  var alertBox = document.getElementById("flow-problems");
  function showProblems(message) {
    var list = document.getElementById("flow-problems-list");
    list.textContent = "";
    if (!message) { alertBox.hidden = true; return; }
    document.getElementById("flow-problems-title").textContent = message;
    generalProblems().forEach(function (p) { list.appendChild(el("li", { text: p.message })); });
    flow.nodes.forEach(function (node) {
      var mine = problemsOf(node);
      if (!mine.length) { return; }
      var link = el("button", { type: "button", className: "slds-button flow-designer__problem-link", text: (types[node.type] ? types[node.type].label : node.type) + " — " + node.id });
      link.addEventListener("click", function () { select(node.key, true); });
      list.appendChild(el("li", {}, [link, ": " + mine.map(function (p) { return p.message; }).join(" ")]));
    });
    alertBox.hidden = false;
  }

  var saveButton = document.getElementById("save-flow");
  saveButton.addEventListener("click", function () {
    saveButton.disabled = true;
    setState("saving", T.saving);
    var body = {
      name: flow.name, start: flow.start,
      nodes: flow.nodes.map(function (n) { return { id: n.id, type: n.type, settings: n.settings, next: n.next }; })
    };
    fetch(data.urls.save, {
      method: "POST", credentials: "same-origin", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken(), Accept: "application/json" }
    }).then(function (response) {
      return response.json().then(function (answer) { return { ok: response.ok && answer.saved, answer: answer }; });
    }).then(function (result) {
      problems = result.answer.problems || [];
      if (result.ok) {
        result.answer.flow.nodes.forEach(function (saved, i) { flow.nodes[i].settings = saved.settings; flow.nodes[i].next = saved.next; });
        dirty = false;
        setState("saved", result.answer.message);
        document.getElementById("flow-title").textContent = flow.name;
        showProblems(null);
      } else {
        setState("dirty", T.unsaved);
        showProblems(result.answer.message);
        var first = flow.nodes.filter(function (n) { return problemsOf(n).length; })[0];
        if (first && (!selected || !problemsOf(byKey(selected) || first).length)) { selected = first.key; }
      }
      redraw(false);
      renderPanel();
      var wrong = panelBody.querySelector(".slds-has-error, .flow-designer__step-problems");
      if (wrong) { wrong.scrollIntoView({ block: "center" }); }
    }).catch(function () {
      setState("dirty", T.failed);
    }).then(function () { saveButton.disabled = false; });
  });

  // --- size: the console's main column, down to the bottom of the window ------------------
  var designer = document.getElementById("flow-designer");
  function fitWindow() {
    var gap = 12;
    var top = designer.getBoundingClientRect().top + window.scrollY;
    designer.style.height = Math.max(480, window.innerHeight - top - gap) + "px";
    if (cy) { cy.resize(); }
  }
  window.addEventListener("resize", fitWindow);
  fitWindow();

  // --- start -------------------------------------------------------------------------------
  function start() {
    if (window.cytoscapeDagre && !start.registered) { window.cytoscape.use(window.cytoscapeDagre); start.registered = true; }
    cy = window.cytoscape({
      container: document.getElementById("flow-canvas"), elements: elements(), style: STYLE,
      minZoom: 0.3, maxZoom: 2, boxSelectionEnabled: false, autoungrabify: false
    });
    layout();
    cy.on("tap", "node", function (event) {
      var key = event.target.id();
      select(key === "__start" ? (byId(flow.start) || {}).key || null : key, false);
    });
    cy.on("tap", function (event) { if (event.target === cy) { select(null); } });
    window.ectiFlowEditor = { cy: cy, flow: flow, isDirty: function () { return dirty; } };
    fillJump();
    renderPanel();
    document.getElementById("flow-designer").setAttribute("data-ready", "");
  }
  start();
})();
