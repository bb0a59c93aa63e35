// Draws the analytics pages' charts from the JSON the templates embed; no data is fetched.
(function () {
  "use strict";

  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function draw() {
    var drawn = 0;
    var sparklines = data("sparklines");
    if (sparklines) {
      document.querySelectorAll("canvas.sparkline").forEach(function (canvas) {
        var points = sparklines[canvas.dataset.campaign] || [];
        new Chart(canvas, {
          type: "line",
          data: { labels: points.map(function (_, i) { return i; }),
                  datasets: [{ data: points, borderColor: "#2680c2", borderWidth: 1.5, pointRadius: 0, fill: false }] },
          options: { responsive: false, animation: false, events: [],
                     plugins: { legend: { display: false }, tooltip: { enabled: false } },
                     scales: { x: { display: false }, y: { display: false, beginAtZero: true } } }
        });
        drawn += 1;
      });
    }
    var chart = data("chart-data");
    if (chart) {
      // A fresh object per chart: Chart.js writes resolved scales into the options it is given.
      function common(extra) {
        return Object.assign({ animation: false, plugins: { legend: { display: true } } }, extra || {});
      }
      new Chart(document.getElementById("funnel-chart"), {
        type: "bar",
        data: { labels: chart.funnel.map(function (s) { return s[0]; }),
                datasets: [{ label: "messages", data: chart.funnel.map(function (s) { return s[1]; }), backgroundColor: "#2680c2" }] },
        options: common({ indexAxis: "y" })
      });
      var names = ["sent", "delivered", "opened", "clicked", "converted"];
      var colours = ["#243b53", "#2680c2", "#3ebd93", "#f0b429", "#ef4e4e"];
      new Chart(document.getElementById("series-chart"), {
        type: "line",
        data: { labels: chart.series.map(function (row) { return row[0].slice(0, 16).replace("T", " "); }),
                datasets: names.map(function (name, i) {
                  return { label: name, data: chart.series.map(function (row) { return row[i + 1]; }), borderColor: colours[i], fill: false };
                }) },
        options: common()
      });
      new Chart(document.getElementById("channel-chart"), {
        type: "bar",
        data: { labels: chart.channels.map(function (row) { return row[0]; }),
                datasets: ["sent", "delivered", "opened", "clicked"].map(function (name, i) {
                  return { label: name, data: chart.channels.map(function (row) { return row[i + 1]; }), backgroundColor: colours[i] };
                }) },
        options: common()
      });
      drawn += 3;
    }
    // The browser test waits for this mark: every chart of the page was built.
    document.body.dataset.chartsDrawn = String(drawn);
  }

  document.addEventListener("DOMContentLoaded", draw);
})();
