// mailadmin web admin: small progressive enhancements (no external libraries, CSP 'self').
(function () {
  "use strict";
  var name = document.getElementById("full_name");
  var target = document.getElementById("suggested");
  var mail = document.getElementById("mail");
  if (name && target) {
    var timer = null;
    name.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var value = name.value.trim();
        if (!value) { target.textContent = ""; return; }
        fetch(target.dataset.url + "?name=" + encodeURIComponent(value), {credentials: "same-origin"})
          .then(function (r) { return r.json(); })
          .then(function (data) {
            target.textContent = data.address || data.error || "";
            if (mail && data.address) { mail.placeholder = data.address.split("@")[0]; }
          });
      }, 200);
    });
  }
  var all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll("input[name=uid]").forEach(function (box) { box.checked = all.checked; });
    });
  }
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });
  // "Copy" buttons put a table's label: value lines on the clipboard (mail-client settings on /me).
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var rows = document.querySelectorAll("#" + button.dataset.copy + " tr");
      var text = Array.prototype.map.call(rows, function (row) {
        return row.cells[0].textContent.trim() + ": " + row.cells[1].textContent.trim();
      }).join("\n");
      button.dataset.copied = "1";
      // Only a secure page (HTTPS, or loopback) has a clipboard to write to: say "copied" once it is true.
      if (navigator.clipboard) {
        navigator.clipboard.writeText(text).then(function () { button.textContent = button.dataset.doneText; });
      }
    });
  });
  // A form that creates something is sent once: a double click does not send it twice.
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (event.defaultPrevented) { return; }
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = true; });
    });
  });
})();
