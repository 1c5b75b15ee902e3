// depot dashboard: copy buttons and the "/" shortcut to the search box. Pages work without it.
"use strict";
(function () {
  function copyText(text, done) {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallback(text, done); });
    } else {
      fallback(text, done);
    }
  }
  function fallback(text, done) {
    var t = document.createElement("textarea");
    t.value = text;
    t.setAttribute("readonly", "");
    t.className = "vh";
    document.body.appendChild(t);
    t.select();
    try { document.execCommand("copy"); done(); } catch (e) { /* nothing to do */ }
    document.body.removeChild(t);
  }
  document.querySelectorAll("button[data-copy]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () {
      var src = document.getElementById(b.getAttribute("data-copy"));
      if (!src) return;
      copyText(src.textContent, function () {
        var was = b.textContent;
        b.textContent = "Copied";
        b.setAttribute("aria-live", "polite");
        setTimeout(function () { b.textContent = was; }, 1500);
      });
    });
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
    var el = document.activeElement;
    if (el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable)) return;
    var q = document.getElementById("top-q");
    if (q) { e.preventDefault(); q.focus(); q.select(); }
  });
})();
