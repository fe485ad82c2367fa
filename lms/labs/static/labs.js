// Shows the hub's spawn progress (relayed by the LMS as Server-Sent Events) and opens the lab when ready.
(function () {
  "use strict";
  var box = document.getElementById("lab-launch");
  if (!box || box.dataset.launching !== "1" || !window.EventSource) { return; }
  var bar = document.getElementById("lab-progress");
  var text = document.getElementById("lab-progress-message");
  box.hidden = false;
  var source = new EventSource(box.dataset.progressUrl);
  function show(percent, message) {
    if (typeof percent === "number") { bar.value = percent; bar.textContent = percent + "%"; }
    if (message) { text.textContent = message; }
  }
  source.onmessage = function (event) {
    var data;
    try { data = JSON.parse(event.data); } catch (e) { return; }
    show(data.progress, data.html_message ? null : data.message);
    if (data.ready) {
      source.close();
      show(100, box.dataset.readyText);
      window.location.assign(box.dataset.openUrl);
    } else if (data.failed) {
      source.close();
      show(null, box.dataset.failedText + " " + (data.message || ""));
    }
  };
  source.addEventListener("lab-error", function (event) {
    source.close();
    var data = {};
    try { data = JSON.parse(event.data); } catch (e) { /* keep the generic text */ }
    show(null, data.message || box.dataset.failedText);
  });
  source.onerror = function () { show(null, box.dataset.lostText); };
}());
