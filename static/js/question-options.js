// Calendar editor: a question's choices matter only for a single-select question, so the Choices box shows
// only for those (without JavaScript it always shows and the server ignores it for other kinds).
(function () {
  "use strict";
  var rows = document.querySelectorAll("fieldset.question-row");
  Array.prototype.forEach.call(rows, function (row) {
    var kind = row.querySelector("select[name$='-kind']");
    var options = row.querySelector("[data-choice-options]");
    if (!kind || !options) { return; }
    function update() { options.hidden = kind.value !== "single_select"; }
    kind.addEventListener("change", update);
    update();
  });
})();
