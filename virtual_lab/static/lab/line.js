// Live view of the trainee's own line: Server-Sent Events relayed from MQTT by the LMS (no third-party code).
(function () {
  "use strict";
  var root = document.getElementById("lab-machines");
  if (!root || !window.EventSource) { return; }
  var HISTORY = 120;
  var series = {};
  var online = document.getElementById("lab-online");
  var clock = document.getElementById("lab-clock");

  function card(machine) { return root.querySelector('[data-machine="' + machine + '"]'); }

  function setText(el, text) { if (el) { el.textContent = text; } }

  function badgeClass(state) {
    if (state === "Execute") { return "badge ok"; }
    if (state === "Aborted" || state === "Aborting" || state === "Stopped") { return "badge bad"; }
    return "badge warn";
  }

  function draw(machine) {
    var el = card(machine);
    var canvas = el && el.querySelector(".lab-spark");
    var data = series[machine] || [];
    if (!canvas || data.length < 2) { return; }
    var ctx = canvas.getContext("2d");
    var w = canvas.width, h = canvas.height;
    var values = data.filter(function (v) { return v !== null; });
    var min = Math.min.apply(null, values), max = Math.max.apply(null, values);
    if (max === min) { max = min + 1; }
    ctx.clearRect(0, 0, w, h);
    ctx.strokeStyle = "#1f6feb";
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    var started = false;
    data.forEach(function (v, i) {
      if (v === null) { started = false; return; }
      var x = i * (w - 2) / (HISTORY - 1) + 1;
      var y = h - 2 - (v - min) * (h - 4) / (max - min);
      if (started) { ctx.lineTo(x, y); } else { ctx.moveTo(x, y); started = true; }
    });
    ctx.stroke();
  }

  function handle(path, payload) {
    var parts = path.split("/");
    var channel = parts[parts.length - 1];
    if (channel === "status") {
      var up = payload.online === true;
      online.className = up ? "badge ok" : "badge bad";
      setText(online, up ? root.dataset.labelOnline : root.dataset.labelOffline);
      return;
    }
    var machine = parts[3];
    var el = card(machine);
    if (!el) { return; }
    if (payload.ts_ms && clock) { setText(clock, new Date(payload.ts_ms).toISOString().substring(11, 19) + " UTC"); }
    if (channel === "state") {
      var badge = el.querySelector(".lab-state");
      badge.className = badgeClass(payload.state) + " lab-state";
      setText(badge, payload.state + " · " + payload.mode);
      setText(el.querySelector(".lab-reason"), payload.reason_code ? payload.reason_code + " " + payload.reason : "");
    } else if (channel === "counters") {
      setText(el.querySelector(".lab-good"), payload.good_total);
      setText(el.querySelector(".lab-bad"), payload.bad_total);
    } else if (channel === "telemetry") {
      setText(el.querySelector(".lab-power"), payload.power_kw.toFixed(2) + " kW");
      var list = series[machine] || (series[machine] = []);
      list.push(typeof payload.vibration_mm_s === "number" ? payload.vibration_mm_s : null);
      if (list.length > HISTORY) { list.shift(); }
      draw(machine);
    }
  }

  var source = new EventSource(root.dataset.stream);
  source.addEventListener("msg", function (event) {
    var message = JSON.parse(event.data);
    handle(message.path, message.payload);
  });
  source.addEventListener("problem", function (event) {
    online.className = "badge bad";
    setText(online, JSON.parse(event.data).message);
  });
}());
