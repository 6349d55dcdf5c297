// Progressive enhancement only: everything works without this file.
(function () {
  "use strict";
  function boxFor(option) {
    return document.querySelector('input[name="option"][value="' + option + '"]');
  }
  function sync(region) {
    var box = boxFor(region.dataset.option);
    region.setAttribute("aria-checked", box && box.checked ? "true" : "false");
  }
  function toggle(region) {
    var box = boxFor(region.dataset.option);
    if (!box) { return; }
    box.checked = !box.checked;
    document.querySelectorAll('.region[data-option="' + region.dataset.option + '"]').forEach(sync);
  }
  // A region whose answer is already known (aria-disabled) shows that answer and is not asked.
  document.querySelectorAll('.bodymap .region:not([aria-disabled="true"])').forEach(function (region) {
    sync(region);
    region.addEventListener("click", function () { toggle(region); });
    region.addEventListener("keydown", function (event) {
      if (event.key === " " || event.key === "Enter") { event.preventDefault(); toggle(region); }
    });
    var box = boxFor(region.dataset.option);
    if (box) { box.addEventListener("change", function () { sync(region); }); }
  });
  document.querySelectorAll('[data-action="print"]').forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  var summary = document.getElementById("summary-text");
  if (summary) { summary.addEventListener("focus", function () { summary.select(); }); }
})();
