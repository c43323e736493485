// fleetui page behaviour. Scripts load only from our own static files (see the CSP).
(function () {
  "use strict";

  // Close the user menu when clicking elsewhere or pressing Escape.
  function closeMenus(except) {
    document.querySelectorAll("details.user-menu[open]").forEach(function (menu) {
      if (menu !== except) menu.removeAttribute("open");
    });
  }

  document.addEventListener("click", function (event) {
    closeMenus(event.target.closest("details.user-menu"));
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closeMenus(null);
  });

  // Filter selects submit their form on change; the button stays for keyboard and no-JS use.
  document.addEventListener("change", function (event) {
    var select = event.target.closest("form.filters[role=search] select");
    if (select && select.form) select.form.requestSubmit();
  });

  // Charts: each [data-plotly] element names a JSON data block holding its figure.
  function isLocalPath(value) {
    return typeof value === "string" && value.charAt(0) === "/" && value.charAt(1) !== "/";
  }

  function drawCharts(root) {
    if (typeof window.Plotly === "undefined") return;
    root.querySelectorAll("[data-plotly]").forEach(function (el) {
      if (el.dataset.drawn) return;
      var source = document.getElementById(el.dataset.plotly);
      if (!source) return;
      var figure;
      try {
        figure = JSON.parse(source.textContent);
      } catch (err) {
        return;
      }
      el.dataset.drawn = "1";
      var small = el.classList.contains("chart-small");
      var config = { responsive: !small, displaylogo: false, displayModeBar: small ? false : "hover", staticPlot: small };
      window.Plotly.newPlot(el, figure.data || [], figure.layout || {}, config).then(function () {
        // Bars that carry a page address in customdata open it when clicked.
        el.on("plotly_click", function (data) {
          var point = data && data.points && data.points[0];
          if (point && isLocalPath(point.customdata)) window.location.assign(point.customdata);
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts(document);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    drawCharts(event.target);
  });

  // Row selection: "select page" toggles the rows; "select all matching" sends the filter instead of rows.
  function updateSelection(form) {
    var rows = form.querySelectorAll("[data-select-row]");
    var checked = form.querySelectorAll("[data-select-row]:checked").length;
    var matching = form.querySelector("[data-select-matching]");
    var counter = form.querySelector("[data-selection-count]");
    var all = matching && matching.checked;
    if (counter) counter.textContent = all ? "all matching selected" : checked + " selected";
    var page = form.querySelector("[data-select-page]");
    if (page) {
      page.checked = rows.length > 0 && checked === rows.length;
      page.indeterminate = checked > 0 && checked < rows.length;
    }
    form.querySelectorAll("[data-needs-selection]").forEach(function (button) {
      button.disabled = checked === 0;
    });
  }

  document.addEventListener("change", function (event) {
    var form = event.target.closest("form[data-selection]");
    if (!form) return;
    if (event.target.matches("[data-select-page]")) {
      form.querySelectorAll("[data-select-row]").forEach(function (box) {
        box.checked = event.target.checked;
      });
    }
    updateSelection(form);
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-selection]").forEach(updateSelection);
  });

  // Lists: shift-click a row's box to tick (or untick) every row between it and the one clicked before.
  var lastBox = null;
  document.addEventListener("click", function (event) {
    var box = event.target.closest("input[data-select-row]");
    if (!box) return;
    var form = box.closest("form[data-selection]");
    if (event.shiftKey && lastBox && lastBox !== box && form && form.contains(lastBox)) {
      var boxes = Array.prototype.slice.call(form.querySelectorAll("input[data-select-row]"));
      var from = boxes.indexOf(lastBox);
      var to = boxes.indexOf(box);
      boxes.slice(Math.min(from, to), Math.max(from, to) + 1).forEach(function (each) {
        each.checked = box.checked;
      });
      updateSelection(form);
    }
    lastBox = box;
  });

  // Confirm destructive buttons; GET submissions leave the CSRF token out of the address.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    var method = (button && button.getAttribute("formmethod")) || event.target.getAttribute("method") || "get";
    var token = event.target.querySelector("input[name=csrfmiddlewaretoken]");
    if (token) token.disabled = method.toLowerCase() === "get";
  });
})();
