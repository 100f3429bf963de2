// The rule form's bench: Backtest and Evaluate now (dry run) post the form as it stands
// (saved or not) and show the answer under it, with the backtest's budget path chart.
"use strict";

(function () {
  function run(bench, kind) {
    var form = document.getElementById("rule_form");
    var result = bench.querySelector(".bench-result");
    // The two-box channel picker selects its chosen options only when the form is submitted.
    form.querySelectorAll("select.filtered[id$='_to'] option").forEach(function (option) {
      option.selected = true;
    });
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
          var layout = answer.figure.layout;
          if (plot.clientWidth < 600) {  // a phone: room for the legend under the chart
            layout.height += 20 * answer.figure.data.length;
            layout.legend = { orientation: "h", y: -0.1, yanchor: "top", font: { size: 10 } };
            layout.margin = { l: 44, r: 40, t: 10, b: 20 };
          }
          window.Plotly.newPlot(plot, answer.figure.data, layout, {
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
