// Charts drawn in the browser with the vendored Chart.js: a patient's area curves and the clinic analytics.
(function () {
  "use strict";
  var TEAL = "#0f766e", TEAL_BAND = "rgba(20, 184, 166, 0.18)", AMBER = "rgba(245, 158, 11, 0.16)";
  var INK = "#1f2933", MUTED = "#64748b", GRID = "rgba(100, 116, 139, 0.14)";
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  function readJson(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function dateAfter(iso, days) {
    var d = new Date(iso + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + Math.round(days));
    return d;
  }

  function shortDate(d) { return d.getUTCDate() + " " + MONTHS[d.getUTCMonth()]; }

  // Shades the re-booking window and marks today, under the curves.
  var windowShade = {
    id: "windowShade",
    beforeDatasetsDraw: function (chart, _args, options) {
      var x = chart.scales.x, area = chart.chartArea, ctx = chart.ctx;
      if (!options || !options.window) return;
      ctx.save();
      var left = Math.max(x.getPixelForValue(options.window[0]), area.left);
      var right = Math.min(x.getPixelForValue(options.window[1]), area.right);
      if (right > left) {
        ctx.fillStyle = AMBER;
        ctx.fillRect(left, area.top, right - left, area.bottom - area.top);
        ctx.fillStyle = "#b45309";
        ctx.font = "600 11px system-ui, sans-serif";
        ctx.textAlign = "center";
        ctx.fillText("re-book", (left + right) / 2, area.top + 14);
      }
      if (options.today !== null && options.today >= x.min && options.today <= x.max) {
        var t = x.getPixelForValue(options.today);
        ctx.strokeStyle = INK;
        ctx.setLineDash([4, 4]);
        ctx.lineWidth = 1;
        ctx.beginPath(); ctx.moveTo(t, area.top); ctx.lineTo(t, area.bottom); ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = INK;
        ctx.font = "600 11px system-ui, sans-serif";
        ctx.textAlign = "left";
        ctx.fillText("today", t + 4, area.bottom - 6);
      }
      ctx.restore();
    }
  };

  function areaChart(canvas) {
    var data = readJson("chart-data-" + canvas.id.replace("chart-", ""));
    if (!data) return;
    var points = function (values) { return data.days.map(function (d, i) { return { x: d, y: values[i] }; }); };
    var scores = function (rater) {
      return data.scores.filter(function (s) { return s.rater === rater; })
        .map(function (s) { return { x: s.day, y: s.severity, date: s.date }; });
    };
    var maxDay = data.days.length ? data.days[data.days.length - 1] : 200;
    new Chart(canvas, {
      type: "line",
      data: {
        datasets: [
          { label: "90 % upper", data: points(data.upper), borderWidth: 0, pointRadius: 0, fill: "+1", backgroundColor: TEAL_BAND, order: 3 },
          { label: "90 % lower", data: points(data.lower), borderWidth: 0, pointRadius: 0, fill: false, order: 3 },
          { label: "Expected effect", data: points(data.median), borderColor: TEAL, borderWidth: 2.5, pointRadius: 0, tension: 0.25, fill: false, order: 2 },
          { type: "scatter", label: "Clinician score", data: scores("clinician"), yAxisID: "severity", pointRadius: 6, pointHoverRadius: 8,
            backgroundColor: "#1e3a8a", borderColor: "#fff", borderWidth: 2, order: 1 },
          { type: "scatter", label: "Patient's score", data: scores("patient"), yAxisID: "severity", pointRadius: 6, pointStyle: "triangle",
            backgroundColor: "#7c3aed", borderColor: "#fff", borderWidth: 1.5, order: 1 }
        ]
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "nearest", intersect: false },
        plugins: {
          legend: { display: false },
          windowShade: { window: data.window, today: data.today },
          tooltip: {
            filter: function (item) { return item.datasetIndex >= 2; },
            callbacks: {
              title: function (items) {
                var day = items[0].parsed.x;
                return "day " + Math.round(day) + " · " + shortDate(dateAfter(data.treated, day));
              },
              label: function (item) {
                if (item.datasetIndex === 2) return "expected effect " + Math.round(item.parsed.y) + " %";
                return (item.datasetIndex === 3 ? "clinician" : "patient") + " score " + item.parsed.y;
              }
            }
          }
        },
        scales: {
          x: {
            type: "linear", min: 0, max: maxDay,
            grid: { color: GRID },
            ticks: { color: MUTED, stepSize: 30, callback: function (v) { return shortDate(dateAfter(data.treated, v)); } },
            title: { display: true, text: "date (treated " + shortDate(dateAfter(data.treated, 0)) + ")", color: MUTED }
          },
          y: {
            min: 0, max: 100, grid: { color: GRID },
            ticks: { color: MUTED, callback: function (v) { return v + " %"; } },
            title: { display: true, text: "effect (muscle pull removed)", color: MUTED }
          },
          severity: {
            position: "right", min: -0.25, max: 3.25, reverse: true, grid: { display: false },
            ticks: { color: MUTED, stepSize: 1, callback: function (v) { return Number.isInteger(v) ? v : ""; } },
            title: { display: true, text: "severity score (0-3)", color: MUTED }
          }
        }
      },
      plugins: [windowShade]
    });
  }

  function analyticsChart(canvas) {
    var data = readJson("analytics-data");
    if (!data || !data.labels.length) return;
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: "Middle half", data: data.labels.map(function (_l, i) { return [data.q25[i], data.q75[i]]; }),
            backgroundColor: "rgba(20, 184, 166, 0.22)", borderRadius: 4, barPercentage: 0.7 },
          { type: "scatter", label: "Median", data: data.median.map(function (m, i) { return { x: m, y: data.labels[i] }; }),
            pointStyle: "line", pointRadius: 14, borderWidth: 3, borderColor: TEAL, backgroundColor: TEAL }
        ]
      },
      options: {
        animation: false, indexAxis: "y", responsive: true, maintainAspectRatio: false,
        plugins: {
          legend: { position: "bottom", labels: { color: MUTED } },
          tooltip: { callbacks: { afterBody: function (items) { return "observed: " + data.observed[items[0].dataIndex]; } } }
        },
        scales: {
          x: { beginAtZero: true, grid: { color: GRID }, ticks: { color: MUTED }, title: { display: true, text: "days to back at baseline (Turnbull estimate)", color: MUTED } },
          y: { type: "category", labels: data.labels, grid: { display: false }, ticks: { color: INK } }
        }
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (typeof Chart === "undefined") return;
    Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
    document.querySelectorAll("canvas.area-chart").forEach(areaChart);
    var analytics = document.getElementById("analytics-chart");
    if (analytics) analyticsChart(analytics);
  });
})();
