// Live size of a segment while its conditions are edited in the console.
// The conditions textarea carries the estimate URL; the count comes from the
// database on each pause in typing, never from the browser.
(function () {
  "use strict";

  function start() {
    var field = document.querySelector("textarea[data-estimate-url]");
    if (!field) {
      return;
    }
    var output = document.createElement("p");
    output.className = "help segment-estimate";
    output.setAttribute("aria-live", "polite");
    field.insertAdjacentElement("afterend", output);

    var timer = null;
    var latest = 0;

    function show(text) {
      output.textContent = text;
    }

    function estimate() {
      var conditions;
      try {
        conditions = JSON.parse(field.value || "[]");
      } catch (error) {
        show("Estimated size: waiting for valid JSON.");
        return;
      }
      var organization = document.getElementById("id_organization");
      var token = document.querySelector("input[name=csrfmiddlewaretoken]");
      var request = ++latest;
      show("Estimating…");
      fetch(field.dataset.estimateUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": token ? token.value : ""},
        body: JSON.stringify({conditions: conditions, organization: organization ? organization.value : null})
      })
        .then(function (response) {
          return response.json();
        })
        .then(function (body) {
          if (request !== latest) {
            return; // an answer to older conditions
          }
          if (body.estimated_size !== undefined) {
            show("Estimated size: " + body.estimated_size.toLocaleString() + " contacts.");
          } else {
            show("Cannot estimate: " + body.error);
          }
        })
        .catch(function () {
          show("Cannot estimate right now.");
        });
    }

    function schedule() {
      window.clearTimeout(timer);
      timer = window.setTimeout(estimate, 500);
    }

    field.addEventListener("input", schedule);
    var organization = document.getElementById("id_organization");
    if (organization) {
      organization.addEventListener("change", schedule);
    }
    estimate();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
