// Team pages show times in the viewer's own time zone: tell the server which one the browser uses.
(function () {
  "use strict";
  if (!window.Intl || !Intl.DateTimeFormat) { return; }
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone || !/^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone)) { return; }
  if (document.cookie.split("; ").indexOf("viewer_tz=" + zone) !== -1) { return; }
  var secure = window.location.protocol === "https:" ? "; Secure" : "";
  document.cookie = "viewer_tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax" + secure;
})();
