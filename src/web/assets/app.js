// ganc's dashboard: draws each run's sample grids, its curves from log.jsonl, its warnings and
// its hyper-parameters. Live (served by ganc serve or ganc train --serve) it asks the server
// for new log lines and grids every second; in a report (ganc report) everything is in the
// page already, in the JSON element #ganc-report. The charts are SVG drawn here: no library.
'use strict';
(function () {
  const SVG = 'http://www.w3.org/2000/svg';
  const POLL_MS = 1000;
  const reportEl = document.getElementById('ganc-report');
  const report = reportEl ? JSON.parse(reportEl.textContent) : null;
  const runsEl = document.getElementById('runs');
  const statusEl = document.getElementById('status');
  let updates = 0;

  // ---- theme: the system's unless the user chose (kept where the browser allows) ----------
  const themeButton = document.getElementById('theme');
  function storedTheme() { try { return localStorage.getItem('ganc-theme'); } catch (e) { return null; } }
  function setTheme(t) {
    if (t) document.documentElement.dataset.theme = t;
    try { if (t) localStorage.setItem('ganc-theme', t); } catch (e) { /* a file: page may not store */ }
  }
  setTheme(storedTheme());
  themeButton.addEventListener('click', function () {
    const dark = document.documentElement.dataset.theme
      ? document.documentElement.dataset.theme === 'dark'
      : window.matchMedia('(prefers-color-scheme: dark)').matches;
    setTheme(dark ? 'light' : 'dark');
  });

  // ---- what the curves show: log keys, their labels, units ---------------------------------
  // Each chart: its keys (with labels), the y axis' label with its unit, optional fixed range.
  const TRAINING_CHARTS = [
    { id: 'loss', title: 'Losses', y: 'loss (mean over the batch)', keys: [['d_loss', 'D loss'], ['g_loss', 'G loss']] },
    { id: 'dout', title: 'D outputs', y: 'D\u2019s mean output (probability of real)',
      keys: [['d_real', 'D(x), real'], ['d_fake', 'D(G(z)), generated']] },
    { id: 'gnorm', title: 'Gradient norms', y: 'L2 norm of the gradient', keys: [['gnorm_d', 'D'], ['gnorm_g', 'G']] },
    { id: 'aux', title: 'Auxiliary cross-entropies', y: 'cross-entropy (nats)',
      keys: [['info_loss', 'code (InfoGAN)'], ['class_real', 'class, real'], ['class_fake', 'class, generated']] },
    { id: 'speed', title: 'Speed', y: 'milliseconds per step', keys: [['sec_per_step', 'time per step']], scale: 1000 },
  ];
  // Evaluation lines (--eval-every): one chart per key, with what it measures.
  const METRIC_UNITS = {
    fid: ['FID', 'Fr\u00e9chet distance (lower is better)'], kid: ['KID', 'kernel distance (lower is better)'],
    precision: ['Precision', 'fraction (0\u20131)'], recall: ['Recall', 'fraction (0\u20131)'],
    density: ['Density', 'ratio'], coverage: ['Coverage', 'fraction (0\u20131)'],
    class_kl: ['Class KL', 'nats'], confidence: ['Confidence', 'probability (0\u20131)'],
    unsure: ['Unsure', 'fraction (0\u20131)'], class_agreement: ['Class agreement', 'fraction (0\u20131)'],
    intra_fid: ['Intra-class FID', 'Fr\u00e9chet distance'], modes: ['Modes captured', 'modes'],
    high_quality: ['High-quality samples', 'percent', 100], reverse_kl: ['Reverse KL', 'nats'],
  };
  const NOT_METRICS = { step: 1, n: 1, modes_total: 1, epoch: 1, warning: 1 };

  // ---- a run's state, filled from log text and grid lists ----------------------------------
  function newRun(info) {
    return { id: info.id, name: info.name, from: 0, logId: 0, lines: 0, steps: [], warnings: [], metrics: {},
      metricOrder: [], grids: [], meta: null, modesTotal: 0, shownGrid: -1, follow: true, el: null };
  }

  function resetLog(run) {
    run.lines = 0; run.steps = []; run.warnings = []; run.metrics = {}; run.metricOrder = [];
  }

  // One JSON object a line; a line that is not one (or has no integer step) is skipped.
  function ingest(run, text) {
    const lines = text.split('\n');
    for (const line of lines) {
      if (!line.trim()) continue;
      let o;
      try { o = JSON.parse(line); } catch (e) { continue; }
      if (!o || typeof o !== 'object' || !Number.isInteger(o.step)) continue;
      run.lines++;
      if (typeof o.warning === 'string') { run.warnings.push({ step: o.step, text: o.warning }); continue; }
      if ('d_loss' in o) { run.steps.push(o); continue; }
      if (typeof o.modes_total === 'number') run.modesTotal = o.modes_total;
      for (const k of Object.keys(o)) {
        if (NOT_METRICS[k] || (typeof o[k] !== 'number' && o[k] !== null)) continue;
        if (!run.metrics[k]) { run.metrics[k] = []; run.metricOrder.push(k); }
        run.metrics[k].push([o.step, o[k]]);
      }
    }
  }

  // ---- small DOM helpers --------------------------------------------------------------------
  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // ---- charts: axes with ticks, one polyline per series, warnings as dashed lines ------------
  function niceTicks(lo, hi, count) {
    if (!(hi > lo)) { hi = lo + 1; }
    const raw = (hi - lo) / count, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map(function (m) { return m * mag; }).find(function (s) { return s >= raw; });
    const ticks = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(+t.toPrecision(12));
    return ticks;
  }
  function fmt(v) {
    const a = Math.abs(v);
    if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(1);
    return +v.toPrecision(4) + '';
  }

  const W = 640, H = 270, L = 62, R = 14, T = 30, B = 42;
  // A long log has more points than the chart has pixels across: per pixel column only the
  // lowest and the highest point, in their order, so that every spike still shows (and a
  // page that follows a run of 100,000 lines stays quick). Gaps (null) are kept.
  function thin(pts, X) {
    if (pts.length <= 2 * (W - L - R)) return pts;
    const out = [];
    let col = null, lo = null, hi = null;
    const flush = function () {
      if (lo === null) return;
      if (lo === hi) out.push(lo); else if (lo[0] <= hi[0]) out.push(lo, hi); else out.push(hi, lo);
      lo = hi = null;
    };
    for (const p of pts) {
      const c = Math.round(X(p[0]));
      if (c !== col) { flush(); col = c; }
      if (p[1] === null || !isFinite(p[1])) { flush(); out.push(p); continue; }
      if (lo === null || p[1] < lo[1]) lo = p;
      if (hi === null || p[1] > hi[1]) hi = p;
    }
    flush();
    return out;
  }
  // series: [{label, color, pts: [[x, y], ...]}]; points whose y is null or not finite are gaps.
  function drawChart(box, spec, series, warnings, points) {
    box.setAttribute('data-points', String(points));
    box.setAttribute('data-series', String(series.length));
    const s = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': spec.title });
    s.appendChild(svg('text', { x: L, y: 16, class: 'title' }, spec.title));
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const se of series) for (const p of se.pts) {
      if (p[0] < x0) x0 = p[0]; if (p[0] > x1) x1 = p[0];
      if (p[1] !== null && isFinite(p[1])) { if (p[1] < y0) y0 = p[1]; if (p[1] > y1) y1 = p[1]; }
    }
    if (!isFinite(x0)) { x0 = 0; x1 = 1; }
    if (x1 === x0) x1 = x0 + 1;
    if (!isFinite(y0)) { y0 = 0; y1 = 1; }
    if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
    const pad = (y1 - y0) * 0.05; y0 -= pad; y1 += pad;
    const X = function (v) { return L + (v - x0) / (x1 - x0) * (W - L - R); };
    const Y = function (v) { return T + (1 - (v - y0) / (y1 - y0)) * (H - T - B); };
    for (const t of niceTicks(y0, y1, 5)) {
      s.appendChild(svg('line', { x1: L, x2: W - R, y1: Y(t), y2: Y(t), class: 'gridline' }));
      s.appendChild(svg('text', { x: L - 6, y: Y(t) + 4, 'text-anchor': 'end' }, fmt(t)));
    }
    for (const t of niceTicks(x0, x1, 6)) {
      s.appendChild(svg('line', { x1: X(t), x2: X(t), y1: H - B, y2: H - B + 4, class: 'axis' }));
      s.appendChild(svg('text', { x: X(t), y: H - B + 16, 'text-anchor': 'middle' }, fmt(t)));
    }
    s.appendChild(svg('line', { x1: L, x2: W - R, y1: H - B, y2: H - B, class: 'axis' }));
    s.appendChild(svg('line', { x1: L, x2: L, y1: T, y2: H - B, class: 'axis' }));
    s.appendChild(svg('text', { x: (L + W - R) / 2, y: H - 6, 'text-anchor': 'middle' }, 'training step (iterations)'));
    s.appendChild(svg('text', { x: 0, y: 0, 'text-anchor': 'middle',
      transform: 'translate(13 ' + ((T + H - B) / 2) + ') rotate(-90)' }, spec.y));
    for (const w of warnings) {
      if (w.step < x0 || w.step > x1) continue;
      const g = svg('g', { class: 'warning', 'data-step': String(w.step) });
      g.appendChild(svg('line', { x1: X(w.step), x2: X(w.step), y1: T, y2: H - B, class: 'warnline' }));
      g.appendChild(svg('path', { d: 'M' + (X(w.step) - 5) + ' ' + (T - 7) + 'h10l-5 7z', class: 'warnmark' }));
      g.appendChild(svg('title', {}, 'step ' + w.step + ': ' + w.text));
      s.appendChild(g);
    }
    let lx = W - R;
    for (let i = series.length - 1; i >= 0; i--) { // legend, right-aligned along the top
      const se = series[i];
      const label = svg('text', { x: lx, y: 16, 'text-anchor': 'end' }, se.label);
      s.appendChild(label);
      lx -= se.label.length * 6.2 + 6;
      s.appendChild(svg('line', { x1: lx - 16, x2: lx - 2, y1: 12, y2: 12, stroke: se.color, 'stroke-width': 3 }));
      lx -= 26;
    }
    for (const se of series) {
      let d = '', pen = 'M';
      for (const p of thin(se.pts, X)) {
        if (p[1] === null || !isFinite(p[1])) { pen = 'M'; continue; }
        d += pen + X(p[0]).toFixed(1) + ' ' + Y(p[1]).toFixed(1);
        pen = 'L';
      }
      if (se.pts.length === 1 && d) d += 'l0.1 0'; // one point: still a dot
      s.appendChild(svg('path', { d: d, class: 'series', stroke: se.color, 'data-label': se.label,
        'data-points': String(se.pts.length), 'stroke-linecap': 'round' }));
    }
    // the values at the pointer's step
    const cursor = svg('line', { y1: T, y2: H - B, class: 'cursor', visibility: 'hidden' });
    const readout = svg('text', { x: L + 6, y: T + 12, class: 'readout' });
    s.appendChild(cursor); s.appendChild(readout);
    s.addEventListener('mousemove', function (ev) {
      const r = s.getBoundingClientRect();
      const step = x0 + ((ev.clientX - r.left) / r.width * W - L) / (W - L - R) * (x1 - x0);
      const parts = [];
      let at = null;
      for (const se of series) {
        let best = null;
        for (const p of se.pts) if (best === null || Math.abs(p[0] - step) < Math.abs(best[0] - step)) best = p;
        if (best) { at = best[0]; parts.push(se.label + ' ' + (best[1] === null ? 'n/a' : fmt(best[1]))); }
      }
      if (at === null) return;
      cursor.setAttribute('x1', X(at)); cursor.setAttribute('x2', X(at)); cursor.setAttribute('visibility', 'visible');
      readout.textContent = 'step ' + at + ': ' + parts.join(', ');
    });
    s.addEventListener('mouseleave', function () { cursor.setAttribute('visibility', 'hidden'); readout.textContent = ''; });
    box.replaceChildren(s);
  }

  function color(i) { return 'var(--s' + (i % 6) + ')'; }

  // ---- one run's section ---------------------------------------------------------------------
  function buildRun(run) {
    const sec = el('section', { class: 'run', 'data-run': String(run.id) });
    sec.appendChild(el('h2', {}, run.name));
    const sub = el('div', { class: 'sub' }, '');
    sec.appendChild(sub);
    const viewer = el('div', { class: 'viewer' });
    const img = el('img', { class: 'grid', alt: 'sample grid' });
    const empty = el('div', { class: 'empty' }, 'no sample grid yet');
    const controls = el('div', { class: 'controls' });
    const play = el('button', { type: 'button', title: 'play through the grids' }, 'play');
    const slider = el('input', { type: 'range', min: '0', max: '0', value: '0', 'aria-label': 'sample grid by step' });
    const stepLabel = el('span', { class: 'step' }, '');
    controls.append(play, slider, stepLabel);
    const caption = el('div', { class: 'caption' }, '');
    viewer.append(img, empty, controls, caption);
    const viewTitle = el('h3', {}, 'Samples');
    sec.append(viewTitle, viewer);
    const chartsTitle = el('h3', {}, 'Curves');
    const charts = el('div', { class: 'charts' });
    const warnTitle = el('h3', {}, 'Warnings');
    const warnList = el('ul', { class: 'warnings' });
    sec.append(chartsTitle, charts, warnTitle, warnList);
    const metaTitle = el('h3', {}, 'Hyper-parameters and model');
    const cols = el('div', { class: 'cols' });
    const params = el('table', { class: 'params' });
    const model = el('pre', { class: 'model' }, '');
    cols.append(params, model);
    sec.append(metaTitle, cols);
    runsEl.appendChild(sec);
    run.el = { sec, sub, img, empty, slider, stepLabel, play, charts, chartBoxes: {}, warnTitle, warnList, params, model,
      viewTitle, caption, metaTitle, cols };
    slider.addEventListener('input', function () {
      run.follow = +slider.value === run.grids.length - 1;
      showGrid(run, +slider.value);
    });
    let timer = null;
    play.addEventListener('click', function () {
      if (timer) { clearInterval(timer); timer = null; play.textContent = 'play'; return; }
      play.textContent = 'pause';
      let i = +slider.value >= run.grids.length - 1 ? 0 : +slider.value;
      timer = setInterval(function () {
        if (i >= run.grids.length) { clearInterval(timer); timer = null; play.textContent = 'play'; return; }
        slider.value = String(i); run.follow = i === run.grids.length - 1; showGrid(run, i++);
      }, 250);
    });
  }

  function gridSrc(run, g) { return g.src || ('run/' + run.id + '/samples/' + encodeURIComponent(g.file)); }

  function showGrid(run, i) {
    const e = run.el;
    if (!run.grids.length) { e.img.hidden = true; e.empty.hidden = false; e.slider.disabled = true; return; }
    e.img.hidden = false; e.empty.hidden = true; e.slider.disabled = run.grids.length < 2;
    i = Math.max(0, Math.min(i, run.grids.length - 1));
    const g = run.grids[i];
    if (run.shownGrid !== i || e.img.getAttribute('data-step') !== String(g.step)) {
      e.img.src = gridSrc(run, g);
      e.img.setAttribute('data-step', String(g.step));
      e.img.alt = 'samples at step ' + g.step;
      run.shownGrid = i;
    }
    e.stepLabel.textContent = 'step ' + g.step + ' (' + (i + 1) + '/' + run.grids.length + ')';
  }

  function setGrids(run, grids) {
    const grew = grids.length !== run.grids.length;
    run.grids = grids;
    run.el.slider.max = String(Math.max(0, grids.length - 1));
    run.el.sec.setAttribute('data-grids', String(grids.length));
    if (run.follow || run.shownGrid < 0) run.el.slider.value = String(Math.max(0, grids.length - 1));
    showGrid(run, +run.el.slider.value);
    return grew;
  }

  function is2d(run) {
    const m = run.meta || {};
    return m['config.data'] === 'ring' || m['config.data'] === 'grid' || /^2 1 1$|^1 1 2$/.test(m['data.shape'] || '');
  }

  function chartBox(run, id) {
    let b = run.el.chartBoxes[id];
    if (!b) {
      b = el('div', { class: 'chart', 'data-chart': id });
      run.el.charts.appendChild(b);
      run.el.chartBoxes[id] = b;
    }
    return b;
  }

  function renderCurves(run) {
    run.el.sec.setAttribute('data-log-lines', String(run.lines));
    run.el.sec.setAttribute('data-steps', String(run.steps.length));
    // what the first answer held: more in data-steps later means lines arrived while watching
    if (!run.el.sec.hasAttribute('data-first-steps')) run.el.sec.setAttribute('data-first-steps', String(run.steps.length));
    for (const spec of TRAINING_CHARTS) {
      const series = [];
      spec.keys.forEach(function (k, i) {
        const pts = [];
        for (const o of run.steps) if (k[0] in o) pts.push([o.step, o[k[0]] === null ? null : o[k[0]] * (spec.scale || 1)]);
        if (pts.length) series.push({ label: k[1], color: color(i), pts: pts });
      });
      if (!series.length) continue;
      const points = Math.max.apply(null, series.map(function (se) { return se.pts.length; }));
      drawChart(chartBox(run, spec.id), spec, series, run.warnings, points);
    }
    run.metricOrder.forEach(function (k, i) {
      const u = METRIC_UNITS[k] || [k, 'value'];
      let title = u[0];
      if (k === 'modes' && run.modesTotal) title += ' (of ' + run.modesTotal + ')';
      const pts = run.metrics[k].map(function (p) { return [p[0], p[1] === null ? null : p[1] * (u[2] || 1)]; });
      drawChart(chartBox(run, 'metric-' + k), { title: title, y: u[1] }, [{ label: k, color: color(i + 2), pts: pts }],
        run.warnings, pts.length);
    });
    const w = run.el.warnList;
    w.replaceChildren();
    for (const x of run.warnings) w.appendChild(el('li', { 'data-step': String(x.step) }, 'step ' + x.step + ': ' + x.text));
    run.el.warnTitle.textContent = run.warnings.length ? 'Warnings (' + run.warnings.length + ', dashed on the curves)' : 'Warnings: none';
    const last = run.steps.length ? run.steps[run.steps.length - 1] : null;
    const parts = [];
    if (last) parts.push('step ' + last.step + (typeof last.epoch === 'number' ? ', epoch ' + last.epoch.toFixed(2) : ''));
    if (run.meta && run.meta['model.source']) parts.push('model ' + run.meta['model.source']);
    if (run.meta && run.meta['config.data']) parts.push('data ' + run.meta['config.data']);
    parts.push(run.lines + ' log lines');
    run.el.sub.textContent = parts.join(' \u00b7 ');
  }

  function renderMeta(run) {
    const m = run.meta || {};
    const keys = Object.keys(m).filter(function (k) { return k.indexOf('config.') === 0; });
    run.el.params.replaceChildren();
    for (const k of keys) {
      const tr = el('tr');
      tr.append(el('td', {}, k.slice(7)), el('td', {}, m[k]));
      run.el.params.appendChild(tr);
    }
    if (!keys.length) run.el.params.appendChild(el('tr')).appendChild(el('td', {}, 'no checkpoint yet'));
    run.el.model.textContent = m.model || '';
    run.el.model.hidden = !m.model;
    if (is2d(run)) { // the pictures of src/io/plane_plot.c: its colours
      run.el.viewTitle.textContent = 'D over the plane';
      run.el.caption.textContent = 'Heat map: D\u2019s probability that a point is real (green towards 1, purple towards 0, ' +
        'white 0.5). Dots: real points dark green, generated points dark purple. Play runs through the frames.';
    }
  }

  // ---- several runs: their curves over each other, one colour per run --------------------------
  const COMPARE = [['g_loss', 'G loss', 'loss (mean over the batch)'], ['d_loss', 'D loss', 'loss (mean over the batch)'],
    ['d_real', 'D(x), real', 'D\u2019s mean output (probability of real)'],
    ['d_fake', 'D(G(z)), generated', 'D\u2019s mean output (probability of real)']];
  let compareEl = null;
  function shortName(run) { return (run.name.split('/').filter(Boolean).pop() || run.name) + ' (' + (run.id + 1) + ')'; }
  function renderCompare(runs) {
    if (runs.length < 2) return;
    if (!compareEl) {
      compareEl = el('details', { class: 'run compare', id: 'compare', open: '' });
      compareEl.append(el('summary', {}, 'The runs compared: their curves over each other'), el('div', { class: 'charts' }));
      runsEl.parentNode.insertBefore(compareEl, runsEl);
      compareEl.boxes = {};
    }
    const box = function (id) {
      if (!compareEl.boxes[id]) {
        compareEl.boxes[id] = el('div', { class: 'chart', 'data-chart': 'compare-' + id });
        compareEl.lastChild.appendChild(compareEl.boxes[id]);
      }
      return compareEl.boxes[id];
    };
    for (const c of COMPARE) {
      const series = [];
      runs.forEach(function (run, i) {
        const pts = [];
        for (const o of run.steps) if (c[0] in o) pts.push([o.step, o[c[0]]]);
        if (pts.length) series.push({ label: shortName(run), color: color(i), pts: pts });
      });
      if (series.length < 2) continue;
      drawChart(box(c[0]), { title: c[1], y: c[2] }, series, [],
        Math.max.apply(null, series.map(function (se) { return se.pts.length; })));
    }
    const seen = {};
    for (const run of runs) for (const k of run.metricOrder) seen[k] = (seen[k] || 0) + 1;
    for (const k of Object.keys(seen)) {
      if (seen[k] < 2) continue; // a metric only one run logs: its own column has it
      const u = METRIC_UNITS[k] || [k, 'value'];
      const series = [];
      runs.forEach(function (run, i) {
        if (run.metrics[k]) series.push({ label: shortName(run), color: color(i),
          pts: run.metrics[k].map(function (p) { return [p[0], p[1] === null ? null : p[1] * (u[2] || 1)]; }) });
      });
      drawChart(box('metric-' + k), { title: u[0], y: u[1] }, series, [],
        Math.max.apply(null, series.map(function (se) { return se.pts.length; })));
    }
  }

  // ---- a report: everything is in the page -------------------------------------------------
  function fromBase64(s) {
    const bin = atob(s), bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new TextDecoder().decode(bytes);
  }

  function showReport() {
    document.body.setAttribute('data-runs', String(report.runs.length));
    statusEl.textContent = 'report written ' + report.written + ' by ganc ' + report.version;
    const runs = report.runs.map(function (r, id) {
      const run = newRun({ id: id, name: r.name });
      buildRun(run);
      run.meta = r.meta;
      ingest(run, fromBase64(r.log));
      renderMeta(run);
      setGrids(run, r.grids);
      renderCurves(run);
      return run;
    });
    renderCompare(runs);
    document.body.setAttribute('data-ready', '1');
  }

  // ---- live: ask the server -----------------------------------------------------------------
  function getJSON(url) {
    return fetch(url, { cache: 'no-store' }).then(function (r) {
      if (!r.ok) throw new Error(url + ': ' + r.status);
      return r.json();
    });
  }

  // New log lines (all of them, in answers of 1 MiB), the grids, and the metadata until it came.
  function poll(run, tick) {
    const log = function () {
      const url = 'api/run/' + run.id + '/log?from=' + run.from + '&id=' + run.logId;
      return fetch(url, { cache: 'no-store' }).then(function (r) {
        if (!r.ok) throw new Error('log: ' + r.status);
        const next = +r.headers.get('X-Log-Next'), reset = r.headers.get('X-Log-Reset') === '1';
        run.logId = r.headers.get('X-Log-Id') || 0;
        return r.text().then(function (text) {
          if (reset) resetLog(run);
          const more = next > run.from || reset;
          ingest(run, text);
          run.from = next;
          return more ? log().then(function () { return true; }) : false;
        });
      });
    };
    const wantMeta = !run.meta || !run.meta['config.steps'] || tick % 10 === 0;
    return Promise.all([
      log(),
      getJSON('api/run/' + run.id + '/grids').then(function (g) { return setGrids(run, g); }),
      wantMeta ? getJSON('api/run/' + run.id + '/meta').then(function (m) {
        const changed = JSON.stringify(m) !== JSON.stringify(run.meta);
        run.meta = m;
        if (changed) renderMeta(run);
        return changed;
      }) : false,
    ]).then(function (got) {
      if (got[0] || tick === 0) renderCurves(run);
      return got[0] || got[1];
    });
  }

  function live() {
    let tick = 0, runs = [];
    getJSON('api/runs').then(function (info) {
      document.body.setAttribute('data-runs', String(info.runs.length));
      runs = info.runs.map(newRun);
      runs.forEach(function (run) { buildRun(run); renderMeta(run); showGrid(run, 0); });
      const loop = function () {
        Promise.all(runs.map(function (run) { return poll(run, tick); })).then(function (changed) {
          if (changed.some(Boolean) || tick === 0) {
            renderCompare(runs);
            updates++;
            document.body.setAttribute('data-updates', String(updates));
          }
          document.body.setAttribute('data-ready', '1');
          statusEl.textContent = 'live \u00b7 updated ' + new Date().toLocaleTimeString() + ' \u00b7 ' + updates + ' updates';
        }).catch(function (e) {
          statusEl.textContent = 'cannot reach the server (' + e.message + '); retrying';
        }).then(function () { tick++; setTimeout(loop, POLL_MS); });
      };
      loop();
    }).catch(function (e) {
      statusEl.textContent = 'cannot reach the server (' + e.message + '); reload to retry';
    });
  }

  if (report) showReport(); else live();
})();
