(function () {
  "use strict";
  var rules = Array.prototype.slice.call(document.querySelectorAll("[data-status]"));
  var buttons = Array.prototype.slice.call(document.querySelectorAll("button[data-filter]"));
  var bar = document.querySelector(".filters");
  var none = document.querySelector(".none-shown");
  function applyFilter() {
    var wanted = {};
    buttons.forEach(function (b) { if (b.getAttribute("aria-pressed") === "true") { wanted[b.getAttribute("data-filter")] = true; } });
    var shown = 0;
    rules.forEach(function (r) {
      var visible = wanted[r.getAttribute("data-status")] === true;
      r.hidden = !visible;
      if (visible) { shown += 1; }
    });
    if (none) { none.hidden = shown > 0; }
  }
  buttons.forEach(function (b) {
    b.addEventListener("click", function () {
      b.setAttribute("aria-pressed", b.getAttribute("aria-pressed") === "true" ? "false" : "true");
      applyFilter();
    });
  });
  if (bar && buttons.length) { bar.hidden = false; }

  function say(button, text) {
    var note = button.parentNode && button.parentNode.querySelector(".copied");
    if (note) { note.textContent = text; }
    window.setTimeout(function () { if (note) { note.textContent = ""; } }, 4000);
  }
  function selectText(node) {
    var selection = window.getSelection && window.getSelection();
    if (!selection || !document.createRange) { return; }
    var range = document.createRange();
    range.selectNodeContents(node);
    selection.removeAllRanges();
    selection.addRange(range);
  }
  function fallbackCopy(button, node, text) {
    var ok = false;
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.top = "-1000px";
    area.style.opacity = "0";
    document.body.appendChild(area);
    try {
      area.select();
      ok = document.execCommand && document.execCommand("copy");
    } catch (e) {
      ok = false;
    }
    document.body.removeChild(area);
    if (ok) {
      say(button, "Copied.");
    } else {
      selectText(node);
      say(button, "Selected: press Ctrl+C (\u2318C) to copy.");
    }
  }
  Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), function (button) {
    button.addEventListener("click", function () {
      var node = document.getElementById(button.getAttribute("data-copy"));
      if (!node) { return; }
      var text = node.textContent;
      var clip = navigator.clipboard;
      if (clip && window.isSecureContext && typeof clip.writeText === "function") {
        var done;
        try {
          done = clip.writeText(text);
        } catch (e) {
          fallbackCopy(button, node, text);
          return;
        }
        done.then(function () { say(button, "Copied."); }, function () { fallbackCopy(button, node, text); });
      } else {
        fallbackCopy(button, node, text);
      }
    });
  });
})();
