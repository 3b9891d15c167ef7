// assay web UI: small progressive enhancements. Every page works without it.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  document.addEventListener("DOMContentLoaded", function () {
    // Forms marked data-autosubmit submit when a select changes (project switcher).
    document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });

    // Expand / collapse every span of the tree.
    document.querySelectorAll("[data-tree-toggle]").forEach(function (button) {
      button.addEventListener("click", function () {
        var open = button.getAttribute("data-tree-toggle") === "open";
        document.querySelectorAll("details.span").forEach(function (d) { d.open = open; });
      });
    });

    // Show times in the reader's time zone; the server renders UTC as the fallback.
    document.querySelectorAll("time[datetime]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when.getTime())) { return; }
      el.title = el.textContent.trim() + " UTC";
      el.textContent = when.toLocaleString(undefined, {
        year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", second: "2-digit"
      });
    });

    // Drop empty fields from GET filter forms so shared URLs stay short.
    document.querySelectorAll("form[data-compact-query]").forEach(function (form) {
      form.addEventListener("submit", function () {
        form.querySelectorAll("input, select").forEach(function (field) {
          if (field.name && !field.value) { field.disabled = true; }
        });
      });
    });
  });

  // Coming back through the history cache must not leave those fields disabled.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-compact-query] [disabled]").forEach(function (field) {
      field.disabled = false;
    });
  });
})();
