(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
  var data = JSON.parse(document.getElementById("baton-data").textContent);
  var col = {};
  data.fields.forEach(function (f, i) { col[f] = i; });
  var rows = data.metrics;
  function values(field) { return rows.map(function (r) { return r[col[field]]; }); }
  function finite(v) { return typeof v === "number" && isFinite(v); }
  function el(name, attrs, parent) {
    var e = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    parent.appendChild(e);
    return e;
  }
  function fmt(v, digits) { return finite(v) ? v.toFixed(digits) : "n/a"; }
  function short(v) { return Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : v.toPrecision(3); }

  // series: [{label, xs, ys}]; marks: x positions of dashed vertical lines; domain: optional [xmin, xmax].
  function plot(id, series, marks, domain) {
    var svg = document.getElementById(id), W = 520, H = 220, L = 55, R = 10, T = 10, B = 25;
    var xs = [], ys = [];
    series.forEach(function (s) {
      s.xs.forEach(function (x, i) { if (finite(x) && finite(s.ys[i])) { xs.push(x); ys.push(s.ys[i]); } });
    });
    var drawn = 0;
    if (xs.length === 0) {
      el("text", {x: W / 2 - 40, y: H / 2}, svg).textContent = "no data yet";
      svg.setAttribute("data-drawn", "0");
      return;
    }
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs);
    if (domain) { x0 = Math.min(x0, domain[0]); x1 = Math.max(x1, domain[1]); }
    var y0 = Math.min.apply(null, ys), y1 = Math.max.apply(null, ys);
    if (x1 === x0) { x1 = x0 + 1; }
    if (y1 === y0) { y1 = y0 + (Math.abs(y0) || 1) * 0.1; y0 = y0 - (Math.abs(y0) || 1) * 0.1; }
    function sx(x) { return L + (x - x0) / (x1 - x0) * (W - L - R); }
    function sy(y) { return H - B - (y - y0) / (y1 - y0) * (H - T - B); }
    el("line", {x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#999"}, svg);
    el("line", {x1: L, y1: T, x2: L, y2: H - B, stroke: "#999"}, svg);
    el("text", {x: 2, y: T + 8}, svg).textContent = short(y1);
    el("text", {x: 2, y: H - B}, svg).textContent = short(y0);
    el("text", {x: L, y: H - 8}, svg).textContent = String(x0);
    el("text", {x: W - R - 40, y: H - 8}, svg).textContent = String(x1);
    (marks || []).forEach(function (m) {
      el("line", {x1: sx(m), y1: T, x2: sx(m), y2: H - B, stroke: "#ccc", "stroke-dasharray": "3,3"}, svg);
    });
    var legend = document.getElementById(id.replace("plot-", "legend-"));
    series.forEach(function (s, k) {
      var d = "", n = 0;
      s.xs.forEach(function (x, i) {
        if (finite(x) && finite(s.ys[i])) {
          d += (n === 0 ? "M" : " L") + sx(x).toFixed(1) + "," + sy(s.ys[i]).toFixed(1);
          n++;
        }
      });
      var color = COLORS[k % COLORS.length];
      if (n > 0) {
        var p = el("path", {d: d, fill: "none", stroke: color, "stroke-width": 1.5, "data-series": s.label,
          "data-points": n}, svg);
        if (n === 1) { el("circle", {cx: sx(s.xs.find(finite)), cy: sy(s.ys.find(finite)), r: 3, fill: color}, svg); }
        drawn += n;
      }
      if (legend) {
        var span = document.createElement("span");
        span.style.color = color;
        span.textContent = "\u25a0 " + s.label + " (" + n + ")";
        legend.appendChild(span);
      }
    });
    svg.setAttribute("data-drawn", String(drawn));
  }

  function mean(vs) {
    var s = 0, n = 0;
    vs.forEach(function (v) { if (finite(v)) { s += v; n++; } });
    return n ? s / n : NaN;
  }
  function lastFinite(vs) { for (var i = vs.length - 1; i >= 0; i--) { if (finite(vs[i])) { return vs[i]; } } return NaN; }
  function set(id, text) { document.getElementById(id).textContent = text; }

  var steps = values("step"), epochs = values("epoch"), loss = values("loss");
  var finiteSteps = steps.filter(finite);
  var stepDomain = finiteSteps.length ? [Math.min.apply(null, finiteSteps), Math.max.apply(null, finiteSteps)] : null;
  var marks = [];
  for (var i = 1; i < rows.length; i++) { if (epochs[i] !== epochs[i - 1]) { marks.push(steps[i]); } }
  var epochSet = {};
  epochs.forEach(function (e) { if (finite(e)) { epochSet[e] = true; } });
  var summary = data.summary || {};
  var warnings = [];
  data.health.forEach(function (h) { (h.warnings || []).forEach(function (w) { warnings.push({step: h.step, text: w}); }); });

  set("stat-steps", String(rows.length));
  set("stat-last-step", rows.length ? String(lastFinite(steps)) : "n/a");
  set("stat-epochs", String(Object.keys(epochSet).length));
  set("stat-images", String(values("images").reduce(function (a, v) { return a + (finite(v) ? v : 0); }, 0)));
  set("stat-last-loss", fmt(lastFinite(loss), 4));
  set("stat-min-loss", fmt(loss.filter(finite).length ? Math.min.apply(null, loss.filter(finite)) : NaN, 4));
  set("stat-last-top1", fmt(lastFinite(values("top1")), 4));
  set("stat-last-lr", finite(lastFinite(values("lr"))) ? lastFinite(values("lr")).toExponential(4) : "n/a");
  set("stat-mean-ips", fmt(mean(values("images_per_sec")), 1));
  set("stat-mean-step-ms", fmt(mean(values("step_ms")), 2));
  set("stat-mean-data-ms", fmt(mean(values("data_wait_ms")), 2));
  set("stat-mean-comm-ms", fmt(mean(values("comm_ms")), 2));
  set("stat-val-top1", fmt(Number(summary.val_top1), 4));
  set("stat-val-top5", fmt(Number(summary.val_top5), 4));
  set("stat-val-loss", fmt(Number(summary.val_loss), 4));
  set("stat-warnings", String(warnings.length));
  set("generated", "Generated " + data.generated + " from " + rows.length + " metrics lines" +
    (data.partial_line ? " (an unfinished last line was left out)" : "") +
    (data.skipped_lines ? ", " + data.skipped_lines + " unreadable lines skipped" : "") +
    (data.summary ? "." : "; training has not finished (no summary yet)."));

  plot("plot-loss", [{label: "loss", xs: steps, ys: loss}], marks, stepDomain);
  var top1Series = [{label: "batch top-1", xs: steps, ys: values("top1")}];
  if (finite(Number(summary.val_top1)) && rows.length) {
    top1Series.push({label: "val top-1 (end)", xs: [lastFinite(steps)], ys: [Number(summary.val_top1)]});
  }
  plot("plot-top1", top1Series, marks, stepDomain);
  plot("plot-lr", [{label: "learning rate", xs: steps, ys: values("lr")}], marks, stepDomain);
  plot("plot-ips", [{label: "images/s", xs: steps, ys: values("images_per_sec")}], marks, stepDomain);
  plot("plot-time", [{label: "step", xs: steps, ys: values("step_ms")},
    {label: "data wait", xs: steps, ys: values("data_wait_ms")},
    {label: "communication", xs: steps, ys: values("comm_ms")}], marks, stepDomain);
  plot("plot-grad", [{label: "gradient norm", xs: steps, ys: values("grad_norm")}], marks, stepDomain);
  var byEpoch = {};
  rows.forEach(function (r) {
    var e = r[col.epoch];
    if (finite(e) && finite(r[col.loss])) { (byEpoch[e] = byEpoch[e] || []).push(r[col.loss]); }
  });
  var ex = Object.keys(byEpoch).map(Number).sort(function (a, b) { return a - b; });
  plot("plot-epoch-loss", [{label: "mean loss", xs: ex, ys: ex.map(function (e) { return mean(byEpoch[e]); })}], []);

  var stages = {};
  data.health.forEach(function (h) { Object.keys(h.grad_norm || {}).forEach(function (s) { stages[s] = true; }); });
  plot("plot-stage-grad", Object.keys(stages).map(function (s) {
    return {label: s, xs: data.health.map(function (h) { return h.step; }),
      ys: data.health.map(function (h) { return h.grad_norm && h.grad_norm[s] !== null ? h.grad_norm[s] : NaN; })};
  }), [], stepDomain);

  var hw = document.getElementById("health-warnings");
  if (data.health.length === 0) {
    hw.textContent = "No health checks recorded (health.jsonl is empty or absent).";
  } else if (warnings.length === 0) {
    hw.textContent = data.health.length + " health checks, no warnings.";
  } else {
    var ul = document.createElement("ul");
    warnings.forEach(function (w) {
      var li = document.createElement("li");
      li.className = "warn";
      li.textContent = "after step " + w.step + ": " + w.text;
      ul.appendChild(li);
    });
    hw.appendChild(ul);
  }
  if (data.health.length) {
    var latest = data.health[data.health.length - 1];
    var table = document.createElement("table");
    table.id = "health-latest";
    var head = table.insertRow();
    ["block (latest check, step " + latest.step + ")", "max |activation|", "dead ReLU channels"].forEach(function (t, k) {
      var th = document.createElement("th"); th.textContent = t; if (k === 0) { th.className = "name"; } head.appendChild(th);
    });
    (latest.blocks || []).forEach(function (b) {
      var tr = table.insertRow();
      var c0 = tr.insertCell(); c0.className = "name"; c0.textContent = b.block;
      tr.insertCell().textContent = b.max_activation === null ? "n/a" : Number(b.max_activation).toFixed(3);
      tr.insertCell().textContent = b.dead_fraction === null ? "n/a" : (100 * b.dead_fraction).toFixed(1) + "%";
    });
    document.getElementById("health-table").appendChild(table);
  }
  // The driver's record: a failed stage, a rollback or an elastic change explains a gap or a jump in the curves.
  var eventsDiv = document.getElementById("events");
  var events = data.events || [];
  var troubles = ["stage-failed", "non-finite", "interrupted", "corrupt-checkpoint-skipped", "forced-resume"];
  if (events.length === 0) {
    eventsDiv.textContent = "No run events recorded (run-events.jsonl is empty or absent).";
  } else {
    var et = document.createElement("table");
    et.id = "events-table";
    var eh = et.insertRow();
    ["time (UTC)", "event", "details"].forEach(function (t) {
      var th = document.createElement("th"); th.className = "name"; th.textContent = t; eh.appendChild(th);
    });
    events.forEach(function (e) {
      var tr = et.insertRow();
      if (troubles.indexOf(e.event) >= 0) { tr.className = "warn"; }
      var when = tr.insertCell(); when.className = "name";
      when.textContent = typeof e.time_ms === "number" ? new Date(e.time_ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "") : "";
      var what = tr.insertCell(); what.className = "name"; what.textContent = String(e.event);
      var details = tr.insertCell(); details.className = "name";
      details.textContent = Object.keys(e).filter(function (k) { return k !== "event" && k !== "time_ms"; })
        .map(function (k) { return k + "=" + (e[k] !== null && typeof e[k] === "object" ? JSON.stringify(e[k]) : e[k]); })
        .join(", ");
    });
    eventsDiv.appendChild(et);
  }
  set("stat-events", events.length ? events.filter(function (e) { return troubles.indexOf(e.event) >= 0; }).length
    + " of " + events.length : "0");
  document.body.setAttribute("data-report-ready", "true");
})();
