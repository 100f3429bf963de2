// The dashboard page: draw each chart from the JSON inlined next to it, submit the channel
// filter when it changes (the Apply button stays for people without JavaScript), and answer
// proposals and alerts in place: the forms post as usual without JavaScript.
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
        // When each chart is drawn, for benchmarks/page_load (navigation timing's clock).
        if (window.performance && performance.mark) performance.mark("chart-drawn");
      });
    });
  }

  // The one legend of the driver charts: each channel becomes a button that shows or hides
  // its lines in every chart (plotly's legends are off: they were a sixth of the first draw).
  function toggleChannels() {
    document.querySelectorAll("[data-legend] li[data-channel]").forEach(function (item) {
      var button = document.createElement("button");
      button.type = "button";
      button.setAttribute("aria-pressed", "true");
      while (item.firstChild) button.appendChild(item.firstChild);
      item.appendChild(button);
      button.addEventListener("click", function () {
        var shown = button.getAttribute("aria-pressed") !== "true";
        button.setAttribute("aria-pressed", String(shown));
        showChannel(item.dataset.channel, shown);
      });
    });
  }

  function showChannel(key, shown) {
    document.querySelectorAll(".plot[data-rendered]").forEach(function (node) {
      var lines = [];
      node.data.forEach(function (trace, index) {
        if (trace.legendgroup === key) lines.push(index);
      });
      if (lines.length) window.Plotly.restyle(node, { visible: shown }, lines);
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

  // The confirmation replaces the buttons of the card (or list) the form belongs to.
  function confirmIn(form, text, ok) {
    var scope = form.closest("[data-answer]") || form.parentNode;
    var note = document.createElement("p");
    note.className = "confirmation " + (ok ? "confirmation-ok" : "confirmation-warn");
    note.setAttribute("role", "status");
    note.tabIndex = -1;
    note.textContent = text;
    scope.querySelectorAll(".actions, .approve-all").forEach(function (node) {
      node.remove();
    });
    scope.appendChild(note);
    note.focus({ preventScroll: true });
  }

  function answerInPlace() {
    document.querySelectorAll("form[data-inline]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        form.querySelectorAll("button").forEach(function (b) {
          b.disabled = true;
        });
        fetch(form.action, {
          method: "POST",
          body: new FormData(form),
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        })
          .then(function (response) {
            if (!response.ok) throw new Error("HTTP " + response.status);
            return response.json();
          })
          .then(function (answer) {
            confirmIn(form, answer.message, answer.ok);
          })
          .catch(function () {
            form.submit(); // the plain post: the server says what happened
          });
      });
    });
  }

  // On the dashboard plotly's script is async, in the head the server sends first: it may
  // have run before the page is parsed, or still be loading.
  function whenPlotly(then) {
    var script = document.querySelector("script[data-plotly]");
    if (window.Plotly) then();
    else if (script) script.addEventListener("load", then);
  }

  document.addEventListener("DOMContentLoaded", function () {
    autosubmitFilters();
    answerInPlace();
    whenPlotly(function () {
      drawCharts();
      toggleChannels();
    });
  });
})();
