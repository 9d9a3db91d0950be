/* Charts of the teams pages (ECharts, no animation); data from json_script blocks. */
(function () {
  function data(id) { return JSON.parse(document.getElementById(id).textContent); }

  function structureBars(el, dataId, labelsId) {
    var d = data(dataId), labels = data(labelsId);
    var keys = Object.keys(d.series);
    var colors = ["#b22222", "#2f6fb2", "#d08c20", "#3b8f4e"];
    var chart = echarts.init(document.getElementById(el));
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 40, right: 16, top: 40, bottom: 80 },
      xAxis: { type: "category", data: d.names, axisLabel: { rotate: 40 } },
      yAxis: { type: "value", minInterval: 1 },
      series: keys.map(function (k, i) {
        return { name: labels[k] || k, type: "bar", data: d.series[k], itemStyle: { color: colors[i % colors.length] } };
      })
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  window.kaitaiTeams = { structureBars: structureBars };
})();
