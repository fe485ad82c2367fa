// Fills progress bars from aria-valuenow: the CSP forbids inline style attributes, but not CSSOM writes.
document.querySelectorAll('.progress[aria-valuenow]').forEach(function (bar) {
  var fill = bar.querySelector('.progress-bar');
  var value = Math.max(0, Math.min(100, Number(bar.getAttribute('aria-valuenow')) || 0));
  if (fill) { fill.style.width = value + '%'; }
});
