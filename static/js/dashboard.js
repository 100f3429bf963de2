// The dashboard page: draw each chart from the JSON inlined next to it, and submit the
// channel filter when it changes (the Apply button stays for people without JavaScript).
"use strict";

(function () {
  function drawCharts() {
    if (!window.Plotly) return;
    document.querySelectorAll(".plot[id]").forEach(function (node) {
      var data = document.getElementById(node.id + "-data");
      if (!data) return;
      var figure = JSON.parse(data.textContent);
      window.Plotly.newPlot(node, figure.data, figure.layout, {
        displayModeBar: false,
        responsive: true,
      }).then(function () {
        node.dataset.rendered = "true";
      });
    });
  }

  function autosubmitFilters() {
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () {
        select.form.submit();
      });
    });
    document.querySelectorAll(".js-hide").forEach(function (node) {
      node.classList.add("visually-hidden");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    autosubmitFilters();
    drawCharts();
  });
})();
