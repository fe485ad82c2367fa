// Countdown for timed quiz attempts; at zero the sheet is submitted so typed answers are scored in time.
(function () {
  "use strict";
  var box = document.getElementById("quiz-timer");
  var form = document.getElementById("quiz-sheet");
  if (!box || !form) { return; }
  var left = parseInt(box.getAttribute("data-seconds-left"), 10);
  var out = box.querySelector("[data-remaining]");
  if (isNaN(left) || !out) { return; }
  var end = Date.now() + left * 1000;
  var warned = false;
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function tick() {
    var s = Math.max(0, Math.round((end - Date.now()) / 1000));
    out.textContent = Math.floor(s / 60) + ":" + pad(s % 60);
    if (s <= 60 && !warned) { warned = true; box.setAttribute("aria-live", "assertive"); }
    if (s === 0) { clearInterval(timer); form.submit(); }
  }
  var timer = setInterval(tick, 1000);
  tick();
})();
