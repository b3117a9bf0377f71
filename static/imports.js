// Live progress of a job (import, reorganisation, bulk action): polls its JSON status until the job is done (CSP 'self', no inline script).
(function () {
  "use strict";
  var box = document.getElementById("import-job");
  if (!box) { return; }
  function show(id, visible) { document.getElementById(id).hidden = !visible; }
  function update(data) {
    var state = document.getElementById("state");
    state.textContent = JSON.parse(state.dataset.names || "{}")[data.state] || data.state;
    var bar = document.getElementById("progress");
    bar.max = data.total || 1;
    bar.value = data.done;
    document.getElementById("progress-text").textContent = data.done + " / " + data.total;
    Object.keys(data.counts).forEach(function (name) {
      var cell = document.getElementById("count-" + name);
      if (cell) { cell.textContent = data.counts[name]; }
    });
    document.getElementById("failure").textContent = data.failure;
    show("failure", !!data.failure);
    show("resume-form", data.state === "applying" && !data.running);
    show("done", data.state === "done");
    show("results-form", data.state === "done" && data.results);
    show("results-taken", data.state === "done" && !data.results);
    var resumeUndo = document.getElementById("undo-resume-form");  // an undo interrupted (bulk jobs)
    if (resumeUndo) { resumeUndo.hidden = !(data.state === "undoing" && !data.running); }
    box.dataset.state = data.state;
    return data.running;
  }
  var shown = box.dataset.state;  // a page listing outcomes (data-reload-when-done) shows them once the job stops
  function poll() {
    fetch(box.dataset.statusUrl, {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (update(data)) { setTimeout(poll, 1000); } else if (box.dataset.reloadWhenDone && data.state !== shown) { window.location.reload(); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  var form = document.getElementById("results-form");
  form.addEventListener("submit", function (event) {
    setTimeout(function () {  // after every listener: a "no" to the form's question (data-confirm) keeps it
      if (!event.defaultPrevented) { show("results-form", false); show("results-taken", true); }
    }, 0);
  });
  poll();
})();
