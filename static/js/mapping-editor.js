// Progressive enhancement of the Salesforce mapping editor: add and remove rows in place, show create-only fields
// only while overwrite is off, suggest a picklist's values for fixed values, and reload the field lists when the
// object changes, and take focus to a refused save's banner. Without this script the form still works (blank rows,
// "Add row", "Remove this row", the banner's links as plain anchors).
(function () {
  "use strict";

  var form = document.querySelector("[data-mapping-editor]");
  if (!form) { return; }
  var rows = form.querySelector("[data-role=rows]");
  var template = document.getElementById("mapping-row-template");

  function overwriteOn() {
    var checked = form.querySelector("input[name=overwrite]:checked");
    return checked !== null && checked.value === "update";
  }

  function objectName() {
    var checked = form.querySelector("input[name=object_name]:checked");
    return checked ? checked.value : "Lead";
  }

  // Fields the connected user may create but not update are offered only while existing records are left alone.
  function applyOverwrite() {
    var hide = overwriteOn();
    form.querySelectorAll("option[data-create-only]").forEach(function (option) {
      option.hidden = hide;
      option.disabled = hide;
    });
  }

  function updateFixedValueSuggestions(row) {
    var select = row.querySelector("[data-role=sf-field]");
    var fixed = row.querySelector("[data-role=fixed-value]");
    if (!select || !fixed) { return; }
    var option = select.options[select.selectedIndex];
    if (option && option.hasAttribute("data-picklist") && document.getElementById("picklist-" + option.value)) {
      fixed.setAttribute("list", "picklist-" + option.value);
    } else {
      fixed.removeAttribute("list");
    }
  }

  function updateSourceControls(row) {
    var source = row.querySelector("[data-role=source]");
    var fixed = row.querySelector("[data-role=fixed-value]");
    var fallback = row.querySelector("[data-role=fallback]");
    if (!source || !fixed || !fallback) { return; }
    var isFixed = source.value === "fixed";
    fixed.closest(".field").hidden = !isFixed && fixed.value === "";
    fallback.closest(".field").hidden = isFixed && fallback.value === "";
  }

  function renumber() {
    rows.querySelectorAll("[data-mapping-row]").forEach(function (row, index) {
      var legend = row.querySelector("legend");
      if (legend) { legend.textContent = "Row " + (index + 1); }
    });
  }

  // Replace the no-script "Remove this row" box by a button that takes the row out of the form.
  function enhanceRow(row) {
    var removeBox = row.querySelector("[data-role=remove]");
    if (removeBox && !removeBox.querySelector("button")) {
      removeBox.querySelectorAll(".field").forEach(function (field) { field.hidden = true; });
      var button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.textContent = "Remove row";
      button.addEventListener("click", function () {
        var next = row.nextElementSibling || row.previousElementSibling;
        row.remove();
        renumber();
        var focusTarget = next ? next.querySelector("select") : form.querySelector("[data-role=add-row]");
        if (focusTarget) { focusTarget.focus(); }
      });
      removeBox.appendChild(button);
    }
    var select = row.querySelector("[data-role=sf-field]");
    if (select) { select.addEventListener("change", function () { updateFixedValueSuggestions(row); }); }
    var source = row.querySelector("[data-role=source]");
    if (source) { source.addEventListener("change", function () { updateSourceControls(row); }); }
    updateFixedValueSuggestions(row);
    updateSourceControls(row);
  }

  function addRow() {
    var index = parseInt(rows.getAttribute("data-next-index"), 10) || 0;
    rows.setAttribute("data-next-index", String(index + 1));
    var holder = document.createElement("div");
    holder.innerHTML = template.innerHTML.replace(/__index__/g, String(index));
    var row = holder.firstElementChild;
    rows.appendChild(row);
    enhanceRow(row);
    applyOverwrite();
    renumber();
    row.querySelector("select").focus();
  }

  var addButton = form.querySelector("[data-role=add-row]");
  if (addButton && template) {
    addButton.addEventListener("click", function (event) {
      event.preventDefault();
      addRow();
    });
  }

  form.querySelectorAll("input[name=overwrite]").forEach(function (radio) {
    radio.addEventListener("change", applyOverwrite);
  });

  // Contact-first only means something for Lead.
  var contactFirst = form.querySelector("[data-role=contact-first]");
  var shownObject = objectName();
  function applyObject() {
    if (contactFirst) { contactFirst.hidden = objectName() !== "Lead"; }
  }
  form.querySelectorAll("input[name=object_name]").forEach(function (radio) {
    radio.addEventListener("change", function () {
      applyObject();
      var reload = form.querySelector("[data-role=reload]");
      if (reload && objectName() !== shownObject) { reload.click(); }
    });
  });
  var reloadHint = form.querySelector(".reload-fields");
  if (reloadHint) { reloadHint.hidden = true; }

  rows.querySelectorAll("[data-mapping-row]").forEach(enhanceRow);
  applyOverwrite();
  applyObject();

  // A refused save: the page opens at its "Not saved" banner (focused, so screen readers read it), and each of its
  // links takes focus to the first control of the row it names.
  var notSaved = document.querySelector("[data-role=not-saved]");
  if (notSaved) {
    notSaved.focus();
    notSaved.querySelectorAll("[data-role=refusal-link]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        var target = document.getElementById(link.getAttribute("href").slice(1));
        if (!target) { return; }
        event.preventDefault();
        var control = target.querySelector("[aria-invalid=true], select, input, button") || target;
        target.scrollIntoView({ block: "center" });
        control.focus();
      });
    });
  }
}());
