// Live grading status: poll the JSON status of each submission on the page and, when grading ends,
// swap in the server-rendered result without reloading the page. No inline script (CSP).
(function () {
  "use strict";
  var CLASSES = { queued: "muted", grading: "warn", graded: "ok", error: "bad" };

  function label(el, status, position) {
    var text = el.getAttribute("data-label-" + status) || status;
    if (status === "queued" && position) {
      text += " (" + el.getAttribute("data-label-position") + " " + position + ")";
    }
    return text;
  }

  function watch(el) {
    var url = el.getAttribute("data-grading-status");
    var delay = 1000;
    function tick() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (data) {
          el.textContent = label(el, data.status, data.queue_position);
          el.className = "badge " + (CLASSES[data.status] || "muted");
          if (data.final) { finish(el); return; }
          delay = 1000;
          setTimeout(tick, delay);
        })
        .catch(function () { delay = Math.min(delay * 2, 15000); setTimeout(tick, delay); });
    }
    setTimeout(tick, delay);
  }

  function finish(el) {
    var target = document.getElementById("grading-result");
    if (!target) { return; }
    fetch(el.getAttribute("data-result-url"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) { target.innerHTML = html; } });
  }

  document.querySelectorAll("[data-grading-status]").forEach(function (el) {
    if (el.getAttribute("data-final") !== "true") { watch(el); }
  });
})();
