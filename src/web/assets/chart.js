// The repository page's coverage-over-time chart (uPlot), from the JSON the page carries; the
// same figures are in a table on the page for readers without script or sight.
(function () {
  'use strict';
  var el = document.getElementById('coverage-chart');
  if (!el || typeof uPlot === 'undefined') return;
  var points = JSON.parse(document.getElementById(el.dataset.source).textContent);
  var xs = points.map(function (p) { return p.t; });
  var ys = points.map(function (p) { return p.coverage; });
  var opts = {
    title: el.dataset.label,
    width: Math.max(280, el.clientWidth),
    height: 240,
    scales: { y: { range: [0, 100] } },
    series: [{}, { label: 'Coverage %', stroke: '#0550ae', width: 2, points: { show: points.length < 60 } }],
    axes: [{}, { values: function (u, vals) { return vals.map(function (v) { return v + '%'; }); } }],
  };
  var plot = new uPlot(opts, [xs, ys], el);
  window.addEventListener('resize', function () { plot.setSize({ width: Math.max(280, el.clientWidth), height: 240 }); });
})();
