(function () {
  "use strict";
  // Charts are uPlot (inlined above this script). Every chart's host element gets data-points="<n>" (the non-empty
  // values it plots) once drawn; the charts are also reachable as window.batonCharts[id] (the report test uses that
  // to find where a step is drawn before it moves the mouse there).
  var COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
  var data = JSON.parse(document.getElementById("baton-data").textContent);
  var runs = data.runs;
  var multi = runs.length > 1;
  var charts = {};
  window.batonCharts = charts;

  function finite(v) { return typeof v === "number" && isFinite(v); }
  function fmt(v, digits) { return finite(v) ? v.toFixed(digits) : "n/a"; }
  // Read-outs: six significant digits, as a number prints (0.719577, 1.5e-7).
  function num(v) { return finite(v) ? String(Number(v.toPrecision(6))) : "--"; }
  function set(id, text) { document.getElementById(id).textContent = text; }
  function el(tag, parent, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined) { e.textContent = text; }
    if (cls) { e.className = cls; }
    if (parent) { parent.appendChild(e); }
    return e;
  }
  function suffix(k) { return k === 0 ? "" : "-" + k; }
  function label(run, what) { return multi ? run.name + (what ? ": " + what : "") : what; }

  runs.forEach(function (run, k) {
    var col = {};
    run.fields.forEach(function (f, i) { col[f] = i; });
    run.values = function (field) { return run.metrics.map(function (r) { return r[col[field]]; }); };
    run.color = COLORS[k % COLORS.length];
  });

  function mean(vs) {
    var s = 0, n = 0;
    vs.forEach(function (v) { if (finite(v)) { s += v; n++; } });
    return n ? s / n : NaN;
  }
  function lastFinite(vs) { for (var i = vs.length - 1; i >= 0; i--) { if (finite(vs[i])) { return vs[i]; } } return NaN; }
  function minFinite(vs) { var f = vs.filter(finite); return f.length ? Math.min.apply(null, f) : NaN; }
  var troubles = ["stage-failed", "non-finite", "interrupted", "corrupt-checkpoint-skipped", "forced-resume"];
  function warningsOf(run) {
    var out = [];
    run.health.forEach(function (h) { (h.warnings || []).forEach(function (w) { out.push({step: h.step, text: w}); }); });
    return out;
  }

  // ---- summary: one column per run ----
  var STATS = [
    ["steps", "steps recorded", function (r) { return String(r.metrics.length); }],
    ["last-step", "last step", function (r) { return r.metrics.length ? String(lastFinite(r.values("step"))) : "n/a"; }],
    ["epochs", "epochs seen", function (r) {
      var seen = {}; r.values("epoch").forEach(function (e) { if (finite(e)) { seen[e] = true; } });
      return String(Object.keys(seen).length);
    }],
    ["images", "images", function (r) {
      return String(r.values("images").reduce(function (a, v) { return a + (finite(v) ? v : 0); }, 0));
    }],
    ["last-loss", "last loss", function (r) { return fmt(lastFinite(r.values("loss")), 4); }],
    ["min-loss", "min loss", function (r) { return fmt(minFinite(r.values("loss")), 4); }],
    ["last-top1", "last batch top-1", function (r) { return fmt(lastFinite(r.values("top1")), 4); }],
    ["last-lr", "last learning rate", function (r) {
      var v = lastFinite(r.values("lr")); return finite(v) ? v.toExponential(4) : "n/a";
    }],
    ["mean-ips", "mean images/s", function (r) { return fmt(mean(r.values("images_per_sec")), 1); }],
    ["mean-step-ms", "mean step ms", function (r) { return fmt(mean(r.values("step_ms")), 2); }],
    ["mean-data-ms", "mean data wait ms", function (r) { return fmt(mean(r.values("data_wait_ms")), 2); }],
    ["mean-comm-ms", "mean comm ms", function (r) { return fmt(mean(r.values("comm_ms")), 2); }],
    ["val-top1", "val top-1", function (r) { return fmt(Number((r.summary || {}).val_top1), 4); }],
    ["val-top5", "val top-5", function (r) { return fmt(Number((r.summary || {}).val_top5), 4); }],
    ["val-loss", "val loss", function (r) { return fmt(Number((r.summary || {}).val_loss), 4); }],
    ["warnings", "health warnings", function (r) { return String(warningsOf(r).length); }],
    ["events", "failures, rollbacks, interruptions (of run events)", function (r) {
      var ev = r.events || [];
      return ev.length ? ev.filter(function (e) { return troubles.indexOf(e.event) >= 0; }).length + " of " + ev.length
        : "0";
    }]
  ];
  var summary = document.getElementById("summary");
  var head = summary.insertRow();
  el("th", head, "", "name");
  runs.forEach(function (run) { el("th", head, run.name); });
  STATS.forEach(function (stat) {
    var tr = summary.insertRow();
    el("th", tr, stat[1], "name");
    runs.forEach(function (run, k) { el("td", tr, stat[2](run)).id = "stat-" + stat[0] + suffix(k); });
  });

  var lines = runs.reduce(function (a, r) { return a + r.metrics.length; }, 0);
  set("generated", "Generated " + data.generated + " from " + lines + " metrics lines of " + runs.length
    + (multi ? " runs." : " run") + (multi ? "" : runs[0].summary ? "." : "; training has not finished (no summary yet)."));
  var notes = document.getElementById("notes");
  (data.notes || []).forEach(function (n) { el("li", notes, n); });

  // ---- charts ----
  // One table per series: [xs, ys], xs ascending and unique (a repeated step keeps its last value); NaN -> null
  // (a gap), so uPlot.join aligns runs with different steps (a step a run lacks is undefined: drawn across).
  function table(xs, ys, positiveOnly) {
    var byX = {};
    xs.forEach(function (x, i) {
      if (finite(x)) {
        var y = ys[i];
        byX[x] = finite(y) && (!positiveOnly || y > 0) ? y : null;
      }
    });
    var keys = Object.keys(byX).map(Number).sort(function (a, b) { return a - b; });
    return [keys, keys.map(function (x) { return byX[x]; })];
  }

  var stepCharts = [];
  var syncing = false;
  function followZoom(u, key) {
    if (key !== "x" || syncing || u.batonKind !== "step") { return; }
    syncing = true;
    var min = u.scales.x.min, max = u.scales.x.max;
    stepCharts.forEach(function (other) { if (other !== u) { other.setScale("x", {min: min, max: max}); } });
    syncing = false;
  }

  // spec: {id, title, xLabel, yLabel, series: [{label, xs, ys, color, dash, points}], marks, log (toggle offered),
  //        kind: "step" (x = step: zoom and cursor follow the other step charts) or "other"}
  function chart(parent, spec) {
    var box = el("div", parent, undefined, "plot");
    var h3 = el("h3", box, spec.title);
    var host = el("div", box);
    host.id = spec.id;
    var logBox = null;
    if (spec.log) {
      var lab = el("label", h3);
      logBox = el("input", lab);
      logBox.type = "checkbox";
      logBox.id = spec.id + "-log";
      lab.appendChild(document.createTextNode(" log scale"));
    }
    function build(log) {
      if (charts[spec.id]) {
        stepCharts.splice(stepCharts.indexOf(charts[spec.id]), 1);
        charts[spec.id].destroy();
      }
      var tables = spec.series.map(function (s) { return table(s.xs, s.ys, log); });
      var aligned = tables.length ? uPlot.join(tables) : [[]];
      var points = 0;
      aligned.slice(1).forEach(function (ys) { ys.forEach(function (y) { if (finite(y)) { points++; } }); });
      var opts = {
        width: 520,
        height: 240,
        cursor: spec.kind === "step" ? {drag: {x: true, y: false, setScale: true}, sync: {key: "baton-step"}}
          : {drag: {x: true, y: false, setScale: true}},
        scales: {x: {time: false}, y: log ? {distr: 3, log: 10} : {}},
        axes: [{label: spec.xLabel, labelSize: 18}, {label: spec.yLabel, labelSize: 18, size: 60}],
        series: [{label: spec.xLabel, value: function (u, v) { return v == null ? "--" : String(v); }}].concat(
          spec.series.map(function (s) {
            var o = {label: s.label, stroke: s.color, width: 1.5, value: function (u, v) { return num(v); }};
            if (s.dash) { o.dash = s.dash; }
            if (s.points) { o.points = {show: true, size: 6, fill: s.color}; }
            return o;
          })),
        hooks: {
          setScale: [followZoom],
          draw: [function (u) {
            if (!spec.marks || !spec.marks.length) { return; }
            var ctx = u.ctx;
            ctx.save();
            ctx.strokeStyle = "#bbb";
            ctx.setLineDash([3, 3]);
            spec.marks.forEach(function (m) {
              if (m < u.scales.x.min || m > u.scales.x.max) { return; }
              var x = Math.round(u.valToPos(m, "x", true));
              ctx.beginPath();
              ctx.moveTo(x, u.bbox.top);
              ctx.lineTo(x, u.bbox.top + u.bbox.height);
              ctx.stroke();
            });
            ctx.restore();
          }]
        }
      };
      var u = new uPlot(opts, aligned, host);
      u.batonKind = spec.kind;
      charts[spec.id] = u;
      if (spec.kind === "step") { stepCharts.push(u); }
      host.setAttribute("data-points", String(points));
      if (points === 0) { host.setAttribute("data-empty", "no data yet"); }
    }
    build(false);
    if (logBox) { logBox.addEventListener("change", function () { build(logBox.checked); }); }
  }

  function perRun(field, what) {
    return runs.map(function (run) {
      return {label: label(run, what), xs: run.values("step"), ys: run.values(field), color: run.color};
    });
  }
  // Epoch boundaries (dashed) of a single run; with several runs they may differ, so none are drawn.
  var marks = [];
  if (!multi) {
    var st = runs[0].values("step"), ep = runs[0].values("epoch");
    for (var i = 1; i < st.length; i++) { if (ep[i] !== ep[i - 1]) { marks.push(st[i]); } }
  }
  var plots = document.getElementById("training-plots");
  chart(plots, {id: "plot-loss", title: "Loss vs step" + (multi ? "" : " (epoch boundaries dashed)"), xLabel: "step",
    yLabel: "loss", series: perRun("loss", "loss"), marks: marks, log: true, kind: "step"});
  var top1 = perRun("top1", "batch top-1");
  runs.forEach(function (run) {
    var v = Number((run.summary || {}).val_top1);
    if (finite(v) && run.metrics.length) {
      top1.push({label: label(run, "val top-1 (end)"), xs: [lastFinite(run.values("step"))], ys: [v], color: run.color,
        dash: [4, 4], points: true});
    }
  });
  chart(plots, {id: "plot-top1", title: "Accuracy vs step", xLabel: "step", yLabel: "top-1 (fraction)", series: top1,
    marks: marks, kind: "step"});
  chart(plots, {id: "plot-lr", title: "Learning rate schedule", xLabel: "step", yLabel: "learning rate",
    series: perRun("lr", "learning rate"), marks: marks, log: true, kind: "step"});
  chart(plots, {id: "plot-ips", title: "Images per second", xLabel: "step", yLabel: "images/s",
    series: perRun("images_per_sec", "images/s"), marks: marks, kind: "step"});
  var timeSeries = [];
  runs.forEach(function (run, k) {
    [["step_ms", "step"], ["data_wait_ms", "data wait"], ["comm_ms", "communication"]].forEach(function (f, j) {
      timeSeries.push({label: label(run, f[1]), xs: run.values("step"), ys: run.values(f[0]),
        color: multi ? run.color : COLORS[j], dash: multi && j > 0 ? (j === 1 ? [6, 3] : [2, 2]) : undefined});
    });
  });
  chart(plots, {id: "plot-time", title: "Step time breakdown", xLabel: "step", yLabel: "ms", series: timeSeries,
    marks: marks, kind: "step"});
  chart(plots, {id: "plot-grad", title: "Gradient norm", xLabel: "step", yLabel: "L2 norm",
    series: perRun("grad_norm", "gradient norm"), marks: marks, log: true, kind: "step"});
  chart(plots, {id: "plot-epoch-loss", title: "Loss per epoch (mean)", xLabel: "epoch", yLabel: "mean loss",
    kind: "other", log: true, series: runs.map(function (run) {
      var byEpoch = {}, ep = run.values("epoch"), ls = run.values("loss");
      ep.forEach(function (e, i) { if (finite(e) && finite(ls[i])) { (byEpoch[e] = byEpoch[e] || []).push(ls[i]); } });
      var xs = Object.keys(byEpoch).map(Number).sort(function (a, b) { return a - b; });
      return {label: label(run, "mean loss"), xs: xs, ys: xs.map(function (e) { return mean(byEpoch[e]); }),
        color: run.color, points: true};
    })});

  // ---- health checks, per run ----
  var health = document.getElementById("health");
  var stageSeries = [];
  runs.forEach(function (run, k) {
    var stages = {};
    run.health.forEach(function (h) { Object.keys(h.grad_norm || {}).forEach(function (s) { stages[s] = true; }); });
    Object.keys(stages).forEach(function (s, j) {
      stageSeries.push({label: label(run, s), xs: run.health.map(function (h) { return h.step; }),
        ys: run.health.map(function (h) { return h.grad_norm && h.grad_norm[s] !== null ? h.grad_norm[s] : NaN; }),
        color: multi ? run.color : COLORS[j % COLORS.length], dash: multi && j > 0 ? [2 + j, 2] : undefined,
        points: true});
    });
  });
  var hp = el("div", health, undefined, "plots");
  chart(hp, {id: "plot-stage-grad", title: "Gradient norm per stage (health checks)", xLabel: "step",
    yLabel: "L2 norm", series: stageSeries, kind: "step", log: true});
  runs.forEach(function (run, k) {
    if (multi) { el("h3", health, run.name, "run"); }
    var box = el("div", health);
    box.id = "health-warnings" + suffix(k);
    var warnings = warningsOf(run);
    if (run.health.length === 0) {
      box.textContent = "No health checks recorded (health.jsonl is empty or absent).";
    } else if (warnings.length === 0) {
      box.textContent = run.health.length + " health checks, no warnings.";
    } else {
      var ul = el("ul", box);
      warnings.forEach(function (w) { el("li", ul, "after step " + w.step + ": " + w.text, "warn"); });
    }
    if (run.health.length) {
      var latest = run.health[run.health.length - 1];
      var t = el("table", health);
      t.id = "health-latest" + suffix(k);
      var hr = t.insertRow();
      ["block (latest check, step " + latest.step + ")", "max |activation|", "dead ReLU channels"].forEach(function (x, j) {
        el("th", hr, x, j === 0 ? "name" : undefined);
      });
      (latest.blocks || []).forEach(function (b) {
        var tr = t.insertRow();
        el("td", tr, b.block, "name");
        el("td", tr, b.max_activation === null ? "n/a" : Number(b.max_activation).toFixed(3));
        el("td", tr, b.dead_fraction === null ? "n/a" : (100 * b.dead_fraction).toFixed(1) + "%");
      });
    }
  });

  // ---- run events, per run: a failed stage, a rollback or an elastic change explains a gap or a jump ----
  var eventsDiv = document.getElementById("events");
  runs.forEach(function (run, k) {
    if (multi) { el("h3", eventsDiv, run.name, "run"); }
    var events = run.events || [];
    if (events.length === 0) {
      el("p", eventsDiv, "No run events recorded (run-events.jsonl is empty or absent).");
      return;
    }
    var et = el("table", eventsDiv);
    et.id = "events-table" + suffix(k);
    var eh = et.insertRow();
    ["time (UTC)", "event", "details"].forEach(function (x) { el("th", eh, x, "name"); });
    events.forEach(function (e) {
      var tr = et.insertRow();
      if (troubles.indexOf(e.event) >= 0) { tr.className = "warn"; }
      el("td", tr, typeof e.time_ms === "number"
        ? new Date(e.time_ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "") : "", "name");
      el("td", tr, String(e.event), "name");
      el("td", tr, Object.keys(e).filter(function (x) { return x !== "event" && x !== "time_ms"; })
        .map(function (x) { return x + "=" + (e[x] !== null && typeof e[x] === "object" ? JSON.stringify(e[x]) : e[x]); })
        .join(", "), "name");
    });
  });
  document.body.setAttribute("data-report-ready", "true");
})();
