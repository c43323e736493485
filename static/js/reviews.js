// Review queue: keyboard shortcuts, selection, inline diffs and the total after a decision in place.
// Without this file (or without htmx) every control still works as a plain link or form.
(function () {
  "use strict";

  // Keys typed into these are text, not shortcuts.
  var TYPING =
    "input:not([type=checkbox]):not([type=radio]):not([type=submit]):not([type=button]), " +
    "textarea, select, [contenteditable], dialog[open]";

  function queue() {
    return document.querySelector("[data-review-queue]");
  }

  function rows() {
    var table = queue();
    return table ? Array.prototype.slice.call(table.querySelectorAll("tr[data-review-row]")) : [];
  }

  // The current row is kept by id, so it survives a row being swapped for its decided form.
  var currentId = null;

  function current() {
    return currentId ? document.getElementById(currentId) : null;
  }

  function setCurrent(row, focus) {
    rows().forEach(function (other) {
      other.classList.remove("is-current");
      other.removeAttribute("aria-current");
    });
    if (!row) return;
    currentId = row.id;
    row.classList.add("is-current");
    row.setAttribute("aria-current", "true");
    if (focus !== false) row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    var all = rows();
    if (!all.length) return;
    var index = all.indexOf(current());
    var next = index < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(Math.max(index + step, 0), all.length - 1);
    setCurrent(all[next]);
  }

  function nextUndecided(row) {
    var all = rows();
    for (var i = all.indexOf(row) + 1; i < all.length; i++) {
      if (!all[i].hasAttribute("data-decided")) return all[i];
    }
    return null;
  }

  // -- selection -------------------------------------------------------------------------------------------------

  function updateSelection() {
    var boxes = document.querySelectorAll("[data-review-select]");
    var checked = document.querySelectorAll("[data-review-select]:checked").length;
    var matching = document.querySelector("[data-select-matching]");
    var all = matching && matching.checked;
    var counter = document.querySelector("[data-review-count]");
    if (counter) counter.textContent = all ? "all matching selected" : checked + " selected";
    var page = document.querySelector("[data-select-page]");
    if (page) {
      page.checked = boxes.length > 0 && checked === boxes.length;
      page.indeterminate = checked > 0 && checked < boxes.length;
    }
    document.querySelectorAll("#bulk-form [data-needs-selection]").forEach(function (button) {
      button.disabled = checked === 0 && !all;
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-select-page]")) {
      document.querySelectorAll("[data-review-select]").forEach(function (box) {
        box.checked = event.target.checked;
      });
    }
    if (event.target.matches("[data-select-page], [data-review-select], [data-select-matching]")) updateSelection();
  });

  // -- inline diff -----------------------------------------------------------------------------------------------

  function toggleDiff(link) {
    var holder = document.getElementById(link.getAttribute("aria-controls"));
    if (!holder) return false;
    var opening = holder.hidden;
    holder.hidden = !opening;
    link.setAttribute("aria-expanded", opening ? "true" : "false");
    link.textContent = opening ? "hide diff" : "diff";
    var body = holder.querySelector("[data-diff-body]");
    if (opening && body && !body.dataset.requested && window.htmx) {
      body.dataset.requested = "1";
      body.setAttribute("aria-busy", "true");
      body.textContent = "Loading the diff from GitHub…";
      window.htmx.ajax("GET", link.getAttribute("href"), { target: body, swap: "innerHTML" }).then(function () {
        body.removeAttribute("aria-busy");
      });
    }
    return true;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-diff-toggle]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || !window.htmx) return;
    if (toggleDiff(link)) event.preventDefault();
    var row = link.closest("tr[data-review-row]");
    if (row) setCurrent(row, false);
  });

  // -- decisions -------------------------------------------------------------------------------------------------

  function approve(row) {
    var form = row.querySelector("form[data-approve]");
    if (!form) return;
    var button = form.querySelector("button");
    if (button && !button.disabled) form.requestSubmit(button);
  }

  function requestChanges(row) {
    var details = row.querySelector("details[data-request-changes]");
    if (!details) return;
    details.open = true;
    var reason = details.querySelector("[data-reason]");
    if (reason) reason.focus();
  }

  function toggleSelect(row) {
    var box = row.querySelector("[data-review-select]");
    if (!box) return;
    box.checked = !box.checked;
    updateSelection();
  }

  // Ctrl+Enter sends a request for changes; Escape closes it and goes back to the row.
  document.addEventListener("keydown", function (event) {
    var details = event.target.closest && event.target.closest("details[data-request-changes]");
    if (!details) return;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      details.querySelector("form").requestSubmit();
    } else if (event.key === "Escape") {
      details.open = false;
      var row = details.closest("tr[data-review-row]");
      if (row) setCurrent(row);
    }
  });

  // A decision recorded in place: the row is now its decided form; show the new total and move on.
  document.addEventListener("reviewDecided", function (event) {
    var detail = event.detail || {};
    if (typeof detail.remaining === "number") {
      document.querySelectorAll("[data-queue-total]").forEach(function (total) {
        total.textContent = String(detail.remaining);
      });
    }
    var totalAll = document.querySelector("[data-queue-total-all]");
    if (totalAll && typeof detail.remaining_all === "number") totalAll.textContent = String(detail.remaining_all);
    var row = document.getElementById("pr-" + detail.pr);
    if (row && currentId === row.id) {
      var next = nextUndecided(row);
      if (next) setCurrent(next);
      else setCurrent(row);
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var row = event.target && event.target.closest && event.target.closest("tr[data-review-row]");
    if (row && row.id === currentId) row.classList.add("is-current");
    updateSelection();
  });

  // -- keyboard --------------------------------------------------------------------------------------------------

  function openHelp() {
    var dialog = document.getElementById("review-shortcuts");
    if (dialog && !dialog.open) dialog.showModal();
  }

  document.addEventListener("keydown", function (event) {
    if (!queue() && event.key !== "?") return;
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    if (event.target.closest && event.target.closest(TYPING)) return;
    var row = current();
    switch (event.key) {
      case "j":
        move(1);
        break;
      case "k":
        move(-1);
        break;
      case "a":
        if (row) approve(row);
        break;
      case "r":
        if (row) requestChanges(row);
        break;
      case "x":
        if (row) toggleSelect(row);
        break;
      case "o":
        if (row) {
          var link = row.querySelector("a[data-diff-toggle]");
          if (link && !toggleDiff(link)) window.location.assign(link.href);
        }
        break;
      case "/":
        var search = document.getElementById("rq-q");
        if (search) search.focus();
        break;
      case "?":
        openHelp();
        break;
      default:
        return;
    }
    event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-shortcuts-open]")) openHelp();
    var row = event.target.closest("tr[data-review-row]");
    if (row && queue() && queue().contains(row)) setCurrent(row, false);
  });

  // Filters left blank stay out of the address, so a shared link shows only what was chosen.
  document.addEventListener("submit", function (event) {
    if (!event.target.matches("form.review-filters")) return;
    event.target.querySelectorAll("select, input").forEach(function (field) {
      if (field.name && !field.value) field.disabled = true;
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-shortcuts-open], [data-select-page]").forEach(function (el) {
      el.hidden = false;
    });
    updateSelection();
  });
})();
