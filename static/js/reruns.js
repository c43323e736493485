// Rerun form: keep the "N repositories will be rerun" count in step with the "leave out" boxes.
(function () {
  "use strict";
  function update() {
    var count = document.getElementById("rerun-count");
    if (!count) return;
    var total = parseInt(count.getAttribute("data-total"), 10) || 0;
    var left = document.querySelectorAll("input.rerun-exclude:checked").length;
    count.textContent = String(total - left);
  }
  document.addEventListener("change", function (event) {
    if (event.target && event.target.classList && event.target.classList.contains("rerun-exclude")) update();
  });
})();
