// Nudge drafts: "select all", a count of the selection, and a confirmation naming every team and channel
// before nudges are posted to Slack (and before a draft is cancelled).
(function () {
  "use strict";
  function picks(form, name) {
    // form.elements includes the boxes outside the form that name it with form="...".
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.type === "checkbox" && el.name === name;
    });
  }
  function updateCount(form) {
    var counter = form.querySelector("[data-send-count]");
    if (!counter) return;
    var n = picks(form, "nudges").filter(function (el) { return el.checked; }).length;
    counter.textContent = n + " selected";
  }
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches) return;
    if (box.matches("input[data-select-all]")) {
      var form = box.closest("form");
      picks(form, box.getAttribute("data-select-all")).forEach(function (item) { item.checked = box.checked; });
      updateCount(form);
    } else if (box.form && box.form.hasAttribute("data-confirm-send")) {
      updateCount(box.form);
    }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.getAttribute) return;
    if (form.hasAttribute("data-confirm-send")) {
      var chosen = picks(form, "nudges").filter(function (el) { return el.checked; });
      if (!chosen.length) {
        window.alert("Select the nudges to send first.");
        event.preventDefault();
        return;
      }
      var names = chosen.map(function (el) { return "• " + el.getAttribute("data-label"); });
      var question = "Post " + chosen.length + " nudge" + (chosen.length === 1 ? "" : "s") +
        " to Slack now? This cannot be undone.\n\n" + names.join("\n");
      if (!window.confirm(question)) event.preventDefault();
      return;
    }
    var plain = form.getAttribute("data-confirm");
    if (plain && !window.confirm(plain)) event.preventDefault();
  });
})();
