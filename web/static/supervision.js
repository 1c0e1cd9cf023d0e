// Charts and the print button of the supervisor's pages. The figures come from
// <script type="application/json"> blocks the server writes; every chart has a
// table beside it with the same figures, so the pages work without this file.
(function () {
  "use strict";
  var COLOURS = { red: "#d92d20", yellow: "#f79009", green: "#12b76a", due: "#98a2b3",
                  rate: "#175cd3" };

  function read(id) {
    var node = document.getElementById(id);
    if (!node) { return null; }
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }

  function unitLights(data) {
    return {
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0 },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: data.units, inverse: true },
      series: data.series.map(function (s) {
        return { name: s.name, type: "bar", stack: "lights", data: s.data,
                 itemStyle: { color: COLOURS[s.key] }, barMaxWidth: 28,
                 label: { show: true, formatter: function (p) { return p.value || ""; } } };
      })
    };
  }

  function trend(data) {
    return {
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: data.months },
      yAxis: [{ type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
              { type: "value", minInterval: 1, splitLine: { show: false } }],
      series: [
        { name: data.names.due, type: "bar", yAxisIndex: 1, data: data.due,
          itemStyle: { color: COLOURS.due }, barMaxWidth: 24 },
        { name: data.names.rate, type: "line", data: data.rate, connectNulls: false,
          itemStyle: { color: COLOURS.rate }, z: 3,
          label: { show: true, position: "top", formatter: "{c}%" } }
      ]
    };
  }

  var BUILDERS = { "unit-lights": unitLights, "trend": trend };
  var charts = [];

  function draw() {
    if (typeof window.echarts === "undefined") { return; }
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var build = BUILDERS[el.getAttribute("data-chart")];
      var data = read(el.getAttribute("data-source"));
      if (!build || !data) { return; }
      // SVG prints sharply and scales with the page
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption(build(data));
      el.setAttribute("data-drawn", "true");
      charts.push(chart);
    });
  }

  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
  window.addEventListener("beforeprint", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) { window.print(); }
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
