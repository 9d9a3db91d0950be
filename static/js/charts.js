/* Plain ECharts charts; data comes from json_script blocks, never inline HTML. */
(function () {
  function data(id) { return JSON.parse(document.getElementById(id).textContent); }

  function townshipBars(el, dataId, label) {
    var d = data(dataId);
    var chart = echarts.init(document.getElementById(el));
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      grid: { left: 40, right: 16, top: 24, bottom: 80 },
      xAxis: { type: "category", data: d.names, axisLabel: { rotate: 40 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ name: label, type: "bar", data: d.villages, itemStyle: { color: "#b22222" } }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function villagePoint(el, dataId, name, radiusLabel) {
    var p = data(dataId);
    // The radius drawn as a circle of points, in degrees (approximate, for a picture only).
    // No radius of its own: the county's default, 1000 m unless changed.
    var radius = p.radius || 1000;
    var circle = [];
    var dLat = radius / 111320, dLng = radius / (111320 * Math.cos(p.lat * Math.PI / 180));
    for (var i = 0; i <= 72; i++) {
      var a = i * Math.PI / 36;
      circle.push([p.lng + dLng * Math.cos(a), p.lat + dLat * Math.sin(a)]);
    }
    var pad = Math.max(dLat, dLng) * 1.6;
    var chart = echarts.init(document.getElementById(el));
    chart.setOption({
      animation: false,
      tooltip: { formatter: function (x) { return x.seriesName + "<br>" + x.value[1].toFixed(6) + ", " + x.value[0].toFixed(6); } },
      xAxis: { type: "value", name: "经度", min: +(p.lng - pad).toFixed(4), max: +(p.lng + pad).toFixed(4), scale: true },
      yAxis: { type: "value", name: "纬度", min: +(p.lat - pad).toFixed(4), max: +(p.lat + pad).toFixed(4), scale: true },
      series: [
        { name: radiusLabel, type: "line", data: circle, showSymbol: false, lineStyle: { type: "dashed", color: "#888" } },
        { name: name, type: "scatter", symbolSize: 16, data: [[p.lng, p.lat]], itemStyle: { color: "#b22222" } }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  window.kaitaiCharts = { townshipBars: townshipBars, villagePoint: villagePoint };
})();
