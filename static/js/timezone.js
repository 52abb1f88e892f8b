// Booking pages: on a first visit (no ?tz= in the address), show times in the browser's own time zone.
// The zone stays changeable with the select; without JavaScript the calendar's zone is used.
(function () {
  "use strict";
  var form = document.querySelector("form.zone-picker[data-detect-zone='on']");
  if (!form || !window.Intl || !Intl.DateTimeFormat) { return; }
  var detected = Intl.DateTimeFormat().resolvedOptions().timeZone;
  var select = form.querySelector("select[name='tz']");
  if (!detected || !select || select.value === detected) { return; }
  var offered = Array.prototype.some.call(select.options, function (option) { return option.value === detected; });
  if (!offered) { return; }
  var url = new URL(window.location.href);
  url.searchParams.set("tz", detected);
  window.location.replace(url.toString());
})();
