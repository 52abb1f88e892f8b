// A sync's detail page while the sync is queued or being sent: ask the server every few seconds where it stands
// and reload the page once its state or attempt count changes, so nobody has to reload by hand.
(function () {
  "use strict";
  var marker = document.querySelector("[data-sync-progress]");
  if (!marker || !window.fetch) { return; }
  var url = marker.getAttribute("data-sync-progress");
  var status = marker.getAttribute("data-status");
  var attempts = marker.getAttribute("data-attempts");
  var delay = 2000;
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (state && (state.status !== status || String(state.attempts) !== attempts)) {
          window.location.reload();
          return;
        }
        delay = Math.min(delay * 1.5, 15000);  // a long wait (a retry hours away) need not poll often
        window.setTimeout(poll, delay);
      })
      .catch(function () { window.setTimeout(poll, 15000); });
  }
  window.setTimeout(poll, delay);
})();
