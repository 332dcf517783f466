// The prompt forms: voices follow the provider, a character counter, and the listen button
// (renders the form's text and settings on the server and plays them, without saving).
(function () {
  "use strict";
  function setUp(form) {
    var provider = form.querySelector("[data-provider-select]");
    var voice = form.querySelector("[data-voice-select]");
    var note = form.querySelector("[data-carrier-note]");
    var text = form.querySelector("textarea[name=text]");
    var counter = form.querySelector("[data-counter-for=text]");
    var button = form.querySelector("[data-listen]");
    var player = form.querySelector("[data-listen-player]");
    var error = form.querySelector("[data-listen-error]");

    function showVoices() {
      var chosen = provider.value, firstVisible = null, selectedVisible = false;
      Array.prototype.forEach.call(voice.options, function (option) {
        var mine = option.getAttribute("data-provider") === chosen;
        option.hidden = !mine;
        option.disabled = !mine;
        if (mine && !firstVisible) { firstVisible = option; }
        if (mine && option.selected) { selectedVisible = true; }
      });
      if (!selectedVisible && firstVisible) { firstVisible.selected = true; }
      var output = provider.options[provider.selectedIndex].getAttribute("data-output");
      note.hidden = output !== "carrier";
    }
    function count() {
      counter.textContent = counter.textContent.replace(/^\d+/, String(text.value.trim().length));
    }
    provider.addEventListener("change", showVoices);
    text.addEventListener("input", count);
    showVoices();

    button.addEventListener("click", function () {
      error.textContent = "";
      button.disabled = true;
      fetch(button.getAttribute("data-listen"), { method: "POST", body: new FormData(form), credentials: "same-origin" })
        .then(function (response) {
          if (response.ok) {
            return response.blob().then(function (blob) {
              if (player.src) { URL.revokeObjectURL(player.src); }
              player.src = URL.createObjectURL(blob);
              player.hidden = false;
              return player.play().catch(function () { /* autoplay refused: the controls are there */ });
            });
          }
          return response.json().then(function (body) { error.textContent = body.error; });
        })
        .catch(function () { error.textContent = button.getAttribute("data-failed"); })
        .then(function () { button.disabled = false; });
    });
  }
  document.querySelectorAll("[data-prompt-form]").forEach(setUp);
})();
