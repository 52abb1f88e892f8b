// Send earlier bookings: while a sending is going, refresh its progress bar and counts from the JSON endpoint.
// Without JavaScript the page shows the counts as of loading it (reload to see more).
(function () {
  "use strict";
  var card = document.querySelector("[data-backfill-progress]");
  if (!card || card.getAttribute("data-backfill-active") !== "yes" || !window.fetch) { return; }
  var url = card.getAttribute("data-backfill-progress");
  var bar = card.querySelector("progress");
  var going = { queued: true, running: true, paused: true };

  function show(progress) {
    Object.keys(progress).forEach(function (key) {
      var field = card.querySelector("[data-field='" + key + "']");
      if (field) { field.textContent = progress[key]; }
    });
    if (bar) { bar.value = progress.percent; bar.textContent = progress.percent + "%"; }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (progress) {
        if (!progress) { window.setTimeout(poll, 5000); return; }
        show(progress);
        if (going[progress.state]) {
          window.setTimeout(poll, 1500);
        } else {
          window.location.reload();  // finished or stopped: show the form and the right button
        }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
