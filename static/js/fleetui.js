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
    var select = event.target.closest("form.filters select");
    if (select && select.form) select.form.requestSubmit();
  });
})();
