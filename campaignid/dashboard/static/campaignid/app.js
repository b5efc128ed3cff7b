/* Progressive enhancements only: every page works without this file. */
(function () {
  "use strict";
  function ready(fn) { if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); } }
  ready(function () {
    // "Tick every beneficiary on this page" (the header checkbox is hidden without JavaScript).
    document.querySelectorAll("[data-tick-all]").forEach(function (box) {
      var name = box.getAttribute("data-tick-all");
      var form = box.form || box.closest("form");
      box.hidden = false;
      box.addEventListener("change", function () {
        form.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (c) { c.checked = box.checked; });
      });
    });
    // How many are ticked on this page, and whether that is the whole page (never all matching).
    document.querySelectorAll("[data-ticked-count]").forEach(function (out) {
      var form = out.closest("form");
      var name = out.getAttribute("data-ticked-count");
      var boxes = function () { return form.querySelectorAll('input[type=checkbox][name="' + name + '"]'); };
      var show = function () {
        var all = boxes(), ticked = 0;
        all.forEach(function (c) { if (c.checked) { ticked += 1; } });
        var label = ticked === 0 ? "none" : (ticked === all.length && all.length > 1 ? "all" : (ticked === 1 ? "one" : "many"));
        out.textContent = out.getAttribute("data-" + label).replace("{n}", String(ticked));
      };
      out.hidden = false;
      form.addEventListener("change", show);
      show();
    });
    // Wallet passes in the sandbox inbox take their issuer's colour (set here: the CSP forbids inline styles).
    document.querySelectorAll("[data-colour]").forEach(function (el) {
      var colour = el.getAttribute("data-colour");
      if (/^#[0-9a-fA-F]{3,8}$/.test(colour)) { el.style.background = colour; }
    });
    // "Copy" buttons next to a read-only field (hidden without JavaScript).
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      var field = document.getElementById(button.getAttribute("data-copy"));
      if (!field) { return; }
      button.hidden = false;
      button.addEventListener("click", function () {
        field.select();
        var done = function () { button.textContent = button.getAttribute("data-copied") || "✓"; };
        if (navigator.clipboard) { navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); }); }
        else { document.execCommand("copy"); done(); }
      });
    });
  });
})();
