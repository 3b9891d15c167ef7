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

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.querySelector("[data-keyboard]");
    if (root) { labelKeyboard(root, root.getAttribute("data-keyboard")); }
  });

  // Coming back through the history cache must not leave those fields disabled.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-compact-query] [disabled]").forEach(function (field) {
      field.disabled = false;
    });
  });

  // -- Review pages: labelling and adjudicating from the keyboard ------------------
  //
  // The label form holds one <fieldset class="label-field"> per schema field. The
  // "current" field is the one holding focus, else the first choice field without
  // an answer. Keys (also listed on the page; review_view.py holds the list):
  //   1-9      annotate: pick option N of the current field (a boolean: 1 yes, 2 no;
  //            tags: toggle tag N), then move on to the next unanswered choice field.
  //            adjudicate: copy annotator N's label into the form.
  //   y / n    yes / no on the current (else first unanswered) boolean field
  //   j / k    next / previous field;  Enter  edit the current text field
  //   e        edit the correction;  r  the reason (adjudicate)
  //   s        skip: open the skip form and focus its reason (annotate)
  //   Ctrl+Enter  submit (also while typing);  Esc  leave a text box / close help
  //   ?        keyboard help
  // Nothing but Ctrl+Enter and Esc fires while typing in a text box.
  function isTyping(el) {
    if (!el || el === document.body) { return false; }
    if (el.isContentEditable) { return true; }
    var tag = el.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") { return true; }
    if (tag !== "INPUT") { return false; }
    return ["radio", "checkbox", "button", "submit", "reset", "hidden"].indexOf(el.type) < 0;
  }

  function labelKeyboard(root, mode) {
    var form = root.querySelector("form[data-label-form]");
    var fields = form ? Array.prototype.slice.call(form.querySelectorAll("fieldset.label-field")) : [];
    var help = document.getElementById("shortcut-help");
    var skip = document.getElementById("skip");
    var started = (window.performance && performance.now) ? performance.now() : Date.now();
    var current = null;

    function choices(fs) { return fs.querySelectorAll("input[type=radio], input[type=checkbox]"); }
    function kind(fs) { return fs.getAttribute("data-kind"); }
    function isChoice(fs) { return kind(fs) === "radio" || kind(fs) === "checkbox"; }
    function textBox(fs) { return fs.querySelector("textarea, input[type=text]"); }
    function answered(fs) {
      if (isChoice(fs)) { return fs.querySelector("input:checked") !== null; }
      var box = textBox(fs);
      return box !== null && box.value.trim() !== "";
    }
    function firstUnanswered(from, type) {
      for (var i = 0; i < fields.length; i++) {
        var fs = fields[(from + i) % fields.length];
        if (isChoice(fs) && !answered(fs) && (!type || fs.getAttribute("data-type") === type)) { return fs; }
      }
      return null;
    }
    function active() { return current || firstUnanswered(0) || fields[0] || null; }
    function mark(fs) {
      fields.forEach(function (f) { f.classList.toggle("is-current", f === fs); });
      current = fs;
    }
    function focusField(fs) {
      mark(fs);
      if (!fs) { return; }
      if (isChoice(fs)) {
        var target = fs.querySelector("input:checked") || choices(fs)[0];
        if (target) { target.focus(); return; }
      }
      fs.focus();
    }
    function advance(fs) {
      var at = fields.indexOf(fs);
      var next = firstUnanswered(at + 1);
      if (next) { focusField(next); return; }
      mark(null);
      var submit = form.querySelector("[data-submit]");
      if (submit) { submit.focus(); }
    }
    function pick(fs, n) {
      if (!fs || !isChoice(fs)) { return; }
      var inputs = choices(fs);
      if (n < 1 || n > inputs.length) { return; }
      var input = inputs[n - 1];
      input.checked = input.type === "checkbox" ? !input.checked : true;
      input.dispatchEvent(new Event("change", { bubbles: true }));
      if (input.type === "radio") { advance(fs); } else { focusField(fs); }
    }
    function booleanField() {
      var fs = active();
      if (fs && fs.getAttribute("data-type") === "boolean") { return fs; }
      return firstUnanswered(0, "boolean") || form.querySelector("fieldset[data-type=boolean]");
    }
    function editText(fs) {
      if (!fs) { return; }
      var box = textBox(fs);
      if (!box) { return; }
      mark(fs);
      box.focus();
      var end = box.value.length;
      if (box.setSelectionRange) { box.setSelectionRange(end, end); }
    }
    function copyLabel(n) {
      var source = root.querySelector("[data-copy='" + n + "']");
      if (!source) { return; }
      var label;
      try { label = JSON.parse(source.getAttribute("data-label")); } catch (err) { return; }
      fields.forEach(function (fs) {
        var value = label[fs.getAttribute("data-field")];
        if (isChoice(fs)) {
          var wanted = Array.isArray(value) ? value.map(String)
            : value === null || value === undefined ? [] : [String(value)];
          Array.prototype.forEach.call(choices(fs), function (input) {
            input.checked = wanted.indexOf(input.value) >= 0;
          });
        } else {
          var box = textBox(fs);
          if (box) { box.value = Array.isArray(value) ? value.join(", ") : (value === null || value === undefined ? "" : String(value)); }
        }
      });
      root.querySelectorAll("[data-copy]").forEach(function (el) {
        el.classList.toggle("copied", el === source);
      });
    }
    function submitForm() {
      if (!form) { return; }
      var seconds = form.querySelector("[data-seconds]");
      if (seconds) { seconds.value = (((window.performance && performance.now) ? performance.now() : Date.now()) - started) / 1000; }
      var button = form.querySelector("[data-submit]");
      if (form.requestSubmit) { form.requestSubmit(button || undefined); } else if (button) { button.click(); } else { form.submit(); }
    }
    function toggleHelp() {
      if (!help || !help.showModal) { return; }
      if (help.open) { help.close(); } else { help.showModal(); }
    }

    if (form) {
      // The time shown on the page, sent with a label that is submitted by mouse too.
      form.addEventListener("submit", function () {
        var seconds = form.querySelector("[data-seconds]");
        if (seconds && !seconds.value) { seconds.value = (((window.performance && performance.now) ? performance.now() : Date.now()) - started) / 1000; }
      });
      form.addEventListener("focusin", function (event) {
        var fs = event.target.closest ? event.target.closest("fieldset.label-field") : null;
        if (fs) { mark(fs); }
      });
    }
    // A click on "use" copies in place when scripts run (the link reloads otherwise).
    root.querySelectorAll("[data-copy-link]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        copyLabel(link.getAttribute("data-copy-link"));
      });
    });

    document.addEventListener("keydown", function (event) {
      if (event.defaultPrevented || event.isComposing) { return; }
      var key = event.key;
      var target = event.target;
      if (key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        // In the skip form, Ctrl+Enter sends the skip; anywhere else, the label.
        if (target && target.form && target.form !== form && target.form.requestSubmit) {
          target.form.requestSubmit();
        } else {
          submitForm();
        }
        return;
      }
      if (key === "Escape") {
        if (help && help.open) { return; }  // the dialog closes itself
        if (isTyping(target)) {
          var fs = target.closest ? target.closest("fieldset.label-field") : null;
          target.blur();
          if (fs) { focusField(fs); }
          event.preventDefault();
        }
        return;
      }
      if (event.ctrlKey || event.metaKey || event.altKey || isTyping(target)) { return; }
      if (help && help.open && key !== "?") { return; }
      var handled = true;
      if (key === "?") {
        toggleHelp();
      } else if (/^[1-9]$/.test(key)) {
        if (mode === "adjudicate") { copyLabel(key); } else { pick(active(), Number(key)); }
      } else if (key === "y" || key === "n") {
        var fsb = booleanField();
        if (fsb) { pick(fsb, key === "y" ? 1 : 2); } else { handled = false; }
      } else if (key === "j" || key === "k") {
        if (!fields.length) { return; }
        var at = fields.indexOf(active());
        var step = key === "j" ? 1 : -1;
        focusField(fields[Math.min(fields.length - 1, Math.max(0, at + step))]);
      } else if (key === "Enter" && current && !isChoice(current) && target === current) {
        editText(current);
      } else if (key === "e") {
        editText(form ? (form.querySelector("fieldset[data-type=correction]") || form.querySelector("fieldset[data-type=text]")) : null);
      } else if (key === "r" && mode === "adjudicate") {
        var reason = root.querySelector("[data-reason]");
        if (reason) { reason.focus(); } else { handled = false; }
      } else if (key === "s" && mode === "annotate" && skip) {
        skip.open = true;
        var input = skip.querySelector("input[name=reason]");
        if (input) { input.focus(); }
      } else {
        handled = false;
      }
      if (handled) { event.preventDefault(); }
    });
  }
})();
