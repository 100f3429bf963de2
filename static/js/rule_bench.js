// The rule form's bench: Backtest and Evaluate now (dry run) post the form as it stands
// (saved or not) and show the answer under it, with the backtest's budget path chart.
"use strict";

(function () {
  function run(bench, kind) {
    var form = document.getElementById("rule_form");
    var result = bench.querySelector(".bench-result");
    var data = new FormData(form);
    data.append("_bench", kind);
    data.append("_object_id", bench.dataset.objectId || "");
    result.textContent = kind === "backtest" ? "Backtesting…" : "Evaluating…";
    bench.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    fetch(bench.dataset.url, { method: "POST", body: data, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("the server answered " + response.status);
        return response.json();
      })
      .then(function (answer) {
        result.innerHTML = answer.html;
        var plot = result.querySelector(".bench-plot");
        if (plot && answer.figure && window.Plotly) {
          window.Plotly.newPlot(plot, answer.figure.data, answer.figure.layout, {
            displayModeBar: false, responsive: true,
          }).then(function () { plot.dataset.rendered = "true"; });
        }
      })
      .catch(function (error) { result.textContent = "Could not run: " + error.message; })
      .finally(function () {
        bench.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var bench = document.getElementById("rule-bench");
    if (!bench) return;
    bench.querySelectorAll("button[data-bench]").forEach(function (button) {
      button.addEventListener("click", function () { run(bench, button.dataset.bench); });
    });
  });
})();
