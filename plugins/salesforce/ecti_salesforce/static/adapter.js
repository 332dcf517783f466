// ECTI's Salesforce Open CTI adapter, loaded by the softphone page (plugin ecti-salesforce).
// Inside Salesforce the softphone's URL carries the Salesforce origin (sfdcIframeOrigin in
// Lightning, with mode=Lightning; sfdcIFrameOrigin in Classic). ECTI checks that origin against
// the company's Salesforce domains, then this script loads Open CTI from it: opencti_min.js
// (Lightning) or interaction.js (Classic). It listens to the softphone's "ecti:call" events.
(function () {
  "use strict";
  const params = new URLSearchParams(window.location.search);
  const origin = params.get("sfdcIframeOrigin") || params.get("sfdcIFrameOrigin");
  if (!origin) return;  // not inside Salesforce
  const lightning = params.get("mode") === "Lightning";
  const root = document.getElementById("softphone");
  const API = root.dataset.api;
  let strings = {};
  let callsUrl = "";
  let record = null;        // {id, type} of the record opened or clicked for the current call
  let dialled = null;       // {number, record} from the last click-to-dial
  const tasks = new Map();  // call id → {id, record}: the Task saved when the call ended

  function fill(template, values) {
    return (template || "").replace(/\$\{(\w+)\}/g, (_m, key) => (key in values ? values[key] : ""));
  }

  function load(src) {
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = () => reject(new Error("Open CTI could not be loaded from " + src));
      document.head.appendChild(script);
    });
  }

  function digits(number) {
    return String(number || "").replace(/[^0-9]/g, "").replace(/^81/, "0");
  }

  // The one record a search found ({id: {Name, RecordType|object}}), else null.
  function onlyRecord(found) {
    const ids = Object.keys(found || {});
    if (ids.length !== 1) return null;
    const value = found[ids[0]] || {};
    return {id: ids[0], type: value.RecordType || value.object || ""};
  }

  const WHO_TYPES = ["Contact", "Lead"];
  function isWho(rec) {
    return WHO_TYPES.includes(rec.type) || /^(003|00Q)/.test(rec.id);
  }

  function lightningApi() {
    const cti = window.sforce.opencti;
    const ignore = () => {};
    return {
      start(onDial) {
        cti.enableClickToDial({callback: ignore});
        cti.onClickToDial({listener: (payload) => onDial(payload.number, payload.recordId ? {id: payload.recordId, type: payload.objectType} : null)});
        cti.notifyInitializationComplete({callback: ignore});
      },
      show() {
        cti.setSoftphonePanelVisibility({visible: true, callback: ignore});
      },
      pop(number, done) {
        const inbound = (cti.CALL_TYPE && cti.CALL_TYPE.INBOUND) || "inbound";
        cti.searchAndScreenPop({searchParams: number, callType: inbound, deferred: false,
          callback: (response) => done(response && response.success ? onlyRecord(response.returnValue) : null)});
      },
      save(fields, done) {
        cti.saveLog({value: Object.assign({entityApiName: "Task"}, fields),
          callback: (response) => done(response && response.success && response.returnValue ? response.returnValue.recordId : null)});
      },
    };
  }

  function classicApi() {
    const interaction = window.sforce.interaction;
    const ignore = () => {};
    return {
      start(onDial) {
        interaction.cti.enableClickToDial(ignore);
        interaction.cti.onClickToDial((response) => {
          if (!response || !response.result) return;
          const clicked = JSON.parse(response.result);
          onDial(clicked.number, clicked.objectId ? {id: clicked.objectId, type: clicked.object} : null);
        });
        interaction.cti.notifyInitializationComplete();
      },
      show() {
        interaction.setVisible(true, ignore);
      },
      pop(number, done) {
        interaction.searchAndScreenPop(number, "", "inbound",
          (response) => done(response && response.result ? onlyRecord(JSON.parse(response.result)) : null));
      },
      save(fields, done) {
        // Classic takes the fields URL-encoded: Subject=…&CallType=…; it answers the record's id.
        const encoded = Object.keys(fields).map((k) => encodeURIComponent(k) + "=" + encodeURIComponent(fields[k])).join("&");
        interaction.saveLog("Task", encoded, (response) => done(response && typeof response.result === "string" ? response.result : null));
      },
    };
  }

  function today() {
    const d = new Date();
    return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
  }

  function taskFor(call) {
    const inbound = call.direction === "inbound";
    const shown = call.display || call.number;
    const fields = {
      Subject: fill(inbound ? strings.subject_inbound : strings.subject_outbound, {number: shown}),
      TaskSubtype: "Call",
      CallType: inbound ? "Inbound" : "Outbound",
      CallDurationInSeconds: call.duration_seconds || 0,
      CallDisposition: strings["outcome_" + call.outcome] || call.outcome || "",
      CallObject: call.call_id != null ? String(call.call_id) : "",
      Status: "Completed",
      ActivityDate: today(),
    };
    if (call.call_id != null) fields.Description = fill(strings.description, {url: callsUrl + call.call_id});
    if (record) fields[isWho(record) ? "WhoId" : "WhatId"] = record.id;
    return fields;
  }

  // The wrap-up the agent saved: the disposition is the Task's CallDisposition, the note heads
  // its Description (the link to the call stays under it). It updates the Task the end of the
  // call created (Id), or creates it when Salesforce did not answer the first one's id.
  function wrappedTask(call, task) {
    const fields = taskFor(call);
    if (call.disposition_label) fields.CallDisposition = call.disposition_label;
    if (call.note) fields.Description = call.note + (fields.Description ? "\n\n" + fields.Description : "");
    if (task && task.id) fields.Id = task.id;
    return fields;
  }

  async function start() {
    const query = new URLSearchParams({origin: origin, mode: lightning ? "lightning" : "classic"});
    let config = null;
    for (let attempt = 0; !config; attempt++) {  // a busy server: try again, a few times
      const response = await fetch(API + "/salesforce/adapter?" + query, {credentials: "same-origin", headers: {"Accept": "application/json"}});
      if (response.ok) config = await response.json();
      else if (attempt >= 4) throw new Error("ECTI did not answer the Salesforce settings: " + response.status);
      else await new Promise((resolve) => setTimeout(resolve, 500 * (attempt + 1)));
    }
    if (!config.allowed) {
      root.dataset.salesforce = "refused";
      return;
    }
    strings = config.strings;
    callsUrl = config.calls_url;
    await load(config.script_url);
    const salesforce = lightning ? lightningApi() : classicApi();
    salesforce.start((number, clicked) => {
      dialled = {number: digits(number), record: clicked};
      window.ectiSoftphone.fillDial(number);
      salesforce.show();
    });
    window.addEventListener("ecti:call", (event) => {
      const call = event.detail;
      if (call.phase === "incoming") {
        record = null;
        salesforce.show();
        salesforce.pop(call.display || call.number, (found) => { record = found; });
      } else if (call.phase === "connected" && call.direction === "outbound") {
        record = dialled && dialled.number === digits(call.number) ? dialled.record : null;
      } else if (call.phase === "ended") {
        const task = {id: null, record: record};
        if (call.call_id != null) tasks.set(call.call_id, task);
        salesforce.save(taskFor(call), (id) => { task.id = id; });
        record = null;
      } else if (call.phase === "wrapped") {
        const task = tasks.get(call.call_id) || null;
        const current = record;
        record = task ? task.record : null;
        salesforce.save(wrappedTask(call, task), (id) => { if (task && id) task.id = id; });
        record = current;
      }
    });
    root.dataset.salesforce = lightning ? "lightning" : "classic";
  }

  start().catch((error) => {
    root.dataset.salesforce = "error";
    console.error(error);
  });
})();
