// Progressive enhancements of the console: nothing needs this script.
//
// Validation as you type in the policy editors (without the script, the Validate button does
// the same on the server): the document is posted to /console/iam/validate and the findings
// are listed with their line and column.
(function () {
  "use strict";
  var csrfInput = document.querySelector('input[name="csrf"]');
  document.querySelectorAll("textarea[data-validate]").forEach(function (area) {
    var out = document.createElement("ul");
    out.className = "live-findings";
    out.id = area.id + "-live";
    out.setAttribute("aria-live", "polite");
    area.insertAdjacentElement("afterend", out);
    var timer = null;
    function show(findings) {
      out.textContent = "";
      if (findings.length === 0) {
        var ok = document.createElement("li");
        ok.className = "valid";
        ok.textContent = "Valid policy, no warnings.";
        out.appendChild(ok);
        return;
      }
      findings.forEach(function (f) {
        var li = document.createElement("li");
        li.className = f.warning ? "warning" : "error";
        li.textContent = (f.line ? "line " + f.line + ":" + f.column + ": " : "") + (f.warning ? "" : "error: ") + f.message;
        out.appendChild(li);
      });
    }
    function validate() {
      var body = new URLSearchParams();
      body.set("csrf", csrfInput ? csrfInput.value : "");
      body.set("type", area.getAttribute("data-validate"));
      body.set("document", area.value);
      fetch("/console/iam/validate", { method: "POST", body: body, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (j) { if (j) { show(j.findings || []); } })
        .catch(function () {});
    }
    area.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(validate, 300);
    });
    validate();
  });
})();

// The create-user form warns that a user without a group or policy has no permissions; the
// warning goes away once a group is chosen.
(function () {
  "use strict";
  var group = document.getElementById("group");
  var warning = document.getElementById("no-permissions-warning");
  if (!group || !warning) {
    return;
  }
  function update() { warning.hidden = group.value !== ""; }
  group.addEventListener("change", update);
  update();
})();
