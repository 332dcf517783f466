// The live character and segment counter of the SMS form. It counts exactly as
// ecti/messaging/segments.py does (a browser test checks that both agree): GSM-7 160 / 153
// characters per segment, anything else (Japanese) UCS-2 70 / 67, in UTF-16 code units.
(function () {
  "use strict";

  var GSM7_BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM7_EXTENDED = "\f^{}\\[~]|€";

  function countSegments(text) {
    var gsm = true;
    var septets = 0;
    for (var ch of text) {
      if (GSM7_EXTENDED.indexOf(ch) >= 0) {
        septets += 2;
      } else if (GSM7_BASIC.indexOf(ch) >= 0) {
        septets += 1;
      } else {
        gsm = false;
        break;
      }
    }
    var encoding = gsm ? "GSM-7" : "UCS-2";
    var single = gsm ? 160 : 70;
    var part = gsm ? 153 : 67;
    var units = gsm ? septets : text.length; // a JavaScript string's length is in UTF-16 units
    var segments = 0;
    var capacity = single;
    if (units > single) {
      segments = Math.ceil(units / part);
      capacity = segments * part;
    } else if (units > 0) {
      segments = 1;
    }
    return {encoding: encoding, characters: units, segments: segments, remaining: capacity - units, part: part};
  }

  window.ectiCountSegments = countSegments;

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (match, name) {
      return name in values ? String(values[name]) : match;
    });
  }

  document.querySelectorAll("form.sms-form").forEach(function (form) {
    var body = form.querySelector("textarea[name=body]");
    var counter = form.querySelector(".sms-counter");
    if (!body || !counter) return;
    var maxSegments = parseInt(counter.dataset.maxSegments, 10);

    function update() {
      var count = countSegments(body.value);
      count.max_segments = maxSegments;
      count.max_characters = maxSegments * count.part;
      var tooLong = count.segments > maxSegments;
      counter.textContent = fill(tooLong ? counter.dataset.templateTooLong : counter.dataset.template, count);
      counter.classList.toggle("error", tooLong);
    }

    body.addEventListener("input", update);
    update();
  });
})();
