// woodflow serve: the dashboard's pages. Charts are uPlot's (from its WebJar, served by the jar); this file only
// fetches JSON, shapes it into uPlot's column arrays and builds tables. Data from run folders is inserted as text,
// never as HTML.
'use strict';

const dash = window.dash = { points: 0, sampleCount: 0, sampleDigest: null, series: [] };
const params = new URLSearchParams(location.search);
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c != null) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

async function getJson(url, options) {
  const r = await fetch(url, Object.assign({ cache: 'no-store' }, options));
  const body = await r.json().catch(() => ({ error: r.status + ' ' + r.statusText }));
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

function showMessage(text, info) {
  const m = document.getElementById('message');
  if (!text) { m.hidden = true; return; }
  m.textContent = text;
  m.className = 'message' + (info ? ' info' : '');
  m.hidden = false;
}

const num = v => (typeof v === 'number' && isFinite(v)) ? v : null;
const fmt = (v, d = 4) => num(v) == null ? '–' : v.toFixed(d);
const when = ms => ms ? new Date(ms).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }) : '–';
const badge = s => el('span', { class: 'badge ' + String(s).replace(' ', '-') }, s);
const runUrl = (page, id) => '/' + page + '?id=' + encodeURIComponent(id);
const fileUrl = path => '/api/file?path=' + encodeURIComponent(path);

function nav(id) {
  const n = document.getElementById('nav');
  const page = document.body.dataset.page;
  const link = (href, text, here) => el('a', { href, class: here ? 'here' : null }, text);
  n.append(link('/', 'Runs', page === 'runs'));
  if (id) {
    n.append(link(runUrl('run', id), 'Run ' + id, page === 'run'), link(runUrl('sampler', id), 'Sampler', page === 'sampler'),
      link(runUrl('score', id), 'Score', page === 'score'));
  }
  n.append(link('/compare' + (id ? '?runs=' + encodeURIComponent(id) : ''), 'Compare', page === 'compare'));
}

function every(ms, f) {
  const tick = async () => {
    try { await f(); document.getElementById('clock').textContent = 'updated ' + new Date().toLocaleTimeString(); }
    catch (e) { showMessage(e.message); }
    setTimeout(tick, ms);
  };
  tick();
}

// ---------------------------------------------------------------- runs table
const RUN_COLUMNS = [
  ['id', 'run', 'text'], ['status', 'status', 'text'], ['model', 'model', 'text'],
  ['iterations', 'iterations', 'num'], ['test_bpd', 'test bpd', 'num'], ['best_test_bpd', 'best test bpd', 'num'],
  ['images_per_s', 'images/s', 'num'], ['skipped_steps', 'skipped', 'num'], ['precision', 'precision', 'text'],
  ['started', 'started', 'num'],
];

function runsPage() {
  nav(null);
  const main = document.getElementById('main');
  main.replaceChildren(el('h1', {}, 'Runs'), el('p', { class: 'muted' }, 'Every run folder under the served root; ',
    'the table refreshes itself every 3 s. Click a column to sort.'), el('div', { id: 'runs' }));
  let sort = { key: 'started', dir: -1 };
  let rows = [];
  const render = () => {
    const sorted = rows.slice().sort((a, b) => {
      const x = a[sort.key], y = b[sort.key];
      if (x == null && y == null) return 0;
      if (x == null) return 1;
      if (y == null) return -1;
      return (typeof x === 'number' ? x - y : String(x).localeCompare(String(y))) * sort.dir;
    });
    const head = el('tr', {}, RUN_COLUMNS.map(([key, label, type]) => el('th', {
      class: 'sortable' + (type === 'num' ? ' num' : ''), 'data-key': key,
      onclick: () => { sort = { key, dir: sort.key === key ? -sort.dir : (type === 'num' ? -1 : 1) }; render(); },
    }, label, sort.key === key ? el('span', { class: 'arrow' }, sort.dir > 0 ? ' ▲' : ' ▼') : null)));
    const body = sorted.map(r => el('tr', { 'data-run': r.id },
      el('td', {}, el('a', { href: runUrl('run', r.id) }, r.id)),
      el('td', { title: r.error || '' }, badge(r.status)),
      el('td', { class: 'wrap', title: r.description || '' }, r.model || r.config_error || '–'),
      el('td', { class: 'num' }, (r.iterations ?? '–') + (r.total_iterations ? ' / ' + r.total_iterations : '')),
      el('td', { class: 'num' }, fmt(r.test_bpd)), el('td', { class: 'num' }, fmt(r.best_test_bpd)),
      el('td', { class: 'num' }, fmt(r.images_per_s, 1)), el('td', { class: 'num' }, r.skipped_steps ?? '–'),
      el('td', {}, r.precision || '–'), el('td', { class: 'num' }, when(r.started))));
    const table = el('table', { id: 'runs-table' }, el('thead', {}, head), el('tbody', {}, body));
    document.getElementById('runs').replaceChildren(rows.length ? table
      : el('p', { class: 'muted' }, 'No run folders here yet: start one with ./woodflow demo or ./woodflow train --out runs/NAME.'));
  };
  every(3000, async () => { rows = await getJson('/api/runs'); render(); showMessage(null); });
}

// ---------------------------------------------------------------- curves
// Columns for uPlot from metrics records: x, train bpd, test bpd, recovery markers, skipped-step markers.
function curveColumns(records, xOf) {
  const rows = new Map();
  const row = x => { if (!rows.has(x)) rows.set(x, [x, null, null, null, null]); return rows.get(x); };
  let lastTrain = null, lastSkipped = 0, points = 0;
  const state = { time: 0 };
  for (const r of records) {
    if (num(r.train_seconds) != null) state.time = r.train_seconds;
    const x = xOf(r, state);
    if (x == null) continue;
    const train = num(r.train_bpd), test = num(r.test_bpd);
    if (train != null) { row(x)[1] = train; lastTrain = train; points++; }
    if (test != null) { row(x)[2] = test; points++; }
    if (r.event === 'recovered') row(x)[3] = lastTrain ?? test;
    if (num(r.skipped_steps) != null && r.skipped_steps > lastSkipped && r.event !== 'recovered') {
      row(x)[4] = train ?? lastTrain;
    }
    if (num(r.skipped_steps) != null) lastSkipped = r.skipped_steps;
  }
  const sorted = [...rows.values()].sort((a, b) => a[0] - b[0]);
  const cols = [0, 1, 2, 3, 4].map(i => sorted.map(r => r[i]));
  return { cols, points };
}

const byIteration = r => num(r.iteration);
const byTime = (r, state) => num(r.iteration) == null ? null : state.time;

function curveChart(container, title, xLabel) {
  const width = Math.max(300, container.clientWidth - 28);
  return new uPlot({
    title, width, height: 300,
    scales: { x: { time: false } },
    axes: [{ label: xLabel }, { label: 'bits per dimension', size: 60 }],
    series: [
      { label: xLabel },
      { label: 'train (batch mean)', stroke: COLOURS[0], width: 1.5, spanGaps: true },
      { label: 'test', stroke: COLOURS[1], width: 2, spanGaps: true, points: { show: true, size: 6 } },
      { label: 'recovery', stroke: COLOURS[3], fill: COLOURS[3], paths: () => null, points: { show: true, size: 12 } },
      { label: 'skipped steps', stroke: COLOURS[4], fill: COLOURS[4], paths: () => null, points: { show: true, size: 9 } },
    ],
  }, [[], [], [], [], []], container);
}

// The learning rate of the last step of each log interval (train.warmup and train.schedule applied).
function lrColumns(records) {
  const points = records.filter(r => num(r.lr) != null && num(r.train_bpd) != null && num(r.iteration) != null)
    .map(r => [r.iteration, r.lr]).sort((a, b) => a[0] - b[0]);
  return [points.map(p => p[0]), points.map(p => p[1])];
}

function lrChart(container) {
  const width = Math.max(300, container.clientWidth - 28);
  return new uPlot({
    title: 'learning rate vs iteration', width, height: 200,
    scales: { x: { time: false } },
    axes: [{ label: 'iteration' }, { label: 'learning rate', size: 70, values: (u, v) => v.map(x => x.toExponential(1)) }],
    series: [{ label: 'iteration' }, { label: 'learning rate', stroke: COLOURS[2], width: 1.5,
      value: (u, v) => v == null ? '—' : v.toExponential(2) }],
  }, [[], []], container);
}

// ---------------------------------------------------------------- run page
async function runPage() {
  const id = params.get('id');
  nav(id);
  const main = document.getElementById('main');
  let info;
  try { info = await getJson('/api/run?id=' + encodeURIComponent(id)); }
  catch (e) { main.replaceChildren(el('p', { class: 'error' }, e.message)); return; }
  const status = el('span', {});
  const headline = el('p', {});
  const iterPanel = el('div', { class: 'panel chart', id: 'curve-iteration' });
  const timePanel = el('div', { class: 'panel chart', id: 'curve-time' });
  const lrPanel = el('div', { class: 'panel chart', id: 'curve-lr' });
  const events = el('ul', { id: 'events', class: 'small' });
  const ckpts = el('div', {}), samples = el('div', { class: 'grids' }), evals = el('div', { id: 'evaluations' });
  main.replaceChildren(
    el('h1', {}, id, ' ', status),
    el('p', { class: 'muted' }, info.description || ''), headline,
    el('div', { class: 'row' }, iterPanel, timePanel), lrPanel,
    el('p', { class: 'muted small' }, 'Train bpd is the mean over each log interval; test bpd is over the test set at each ',
      'evaluation. Training time excludes evaluation. Markers: recoveries (restored a checkpoint after non-finite steps) ',
      'and intervals with skipped steps.'),
    events,
    el('div', { class: 'panel' }, el('h2', {}, 'Evaluations'), evals),
    el('div', { class: 'row' },
      el('div', { class: 'panel' }, el('h2', {}, 'Checkpoints'), ckpts),
      el('div', { class: 'panel' }, el('h2', {}, 'Config'), el('pre', { class: 'config' }, info.config))),
    el('h2', {}, 'Sample grids'), samples);
  const charts = [curveChart(iterPanel, 'bpd vs iteration', 'iteration'), curveChart(timePanel, 'bpd vs training time', 'training time (s)')];
  const rates = lrChart(lrPanel);
  dash.charts = charts;
  let records = [];
  const showInfo = r => {
    status.replaceChildren(badge(r.status));
    headline.replaceChildren(r.model || '', ' · iteration ', String(r.iterations ?? 0),
      r.total_iterations ? ' of ' + r.total_iterations : '', ' · test bpd ', fmt(r.test_bpd), ' (best ', fmt(r.best_test_bpd),
      ') · ', fmt(r.images_per_s, 1), ' images/s · ', String(r.skipped_steps ?? 0), ' skipped steps',
      r.error ? el('span', { class: 'error' }, ' · ' + r.error) : '');
  };
  const showFiles = d => {
    ckpts.replaceChildren(d.checkpoints.length ? el('table', {}, el('tr', {}, el('th', {}, 'file'), el('th', { class: 'num' }, 'MB'),
      el('th', {}, 'written'), el('th', {}, '')), d.checkpoints.map(c => el('tr', {},
      el('td', {}, c.name), el('td', { class: 'num' }, (c.bytes / 1e6).toFixed(1)), el('td', {}, when(c.modified)),
      el('td', {}, el('a', { href: runUrl('sampler', id) + '&checkpoint=' + encodeURIComponent(c.name) }, 'sample'), ' · ',
        el('a', { href: runUrl('score', id) + '&checkpoint=' + encodeURIComponent(c.name) }, 'score')))))
      : el('p', { class: 'muted' }, 'none yet'));
    if (d.report) ckpts.append(el('p', {}, el('a', { href: fileUrl(d.report) }, 'report.html'), ' (written at the end of the run)'));
    const shown = d.samples.slice().reverse().slice(0, 12);
    samples.replaceChildren(...(shown.length ? shown.map(p => el('figure', {}, el('a', { href: fileUrl(p) }, el('img', { src: fileUrl(p), alt: p, loading: 'lazy' })),
      el('figcaption', {}, p.split('/').pop()))) : [el('p', { class: 'muted' }, 'none yet')]));
    dash.sampleFiles = d.samples.length;
    const ev = d.evaluations || [];
    evals.replaceChildren(ev.length ? el('table', {}, el('tr', {}, ...['when', 'checkpoint', 'iteration', 'split', 'images',
      'dequantisation', 'precision', 'weights', 'one-sample bpd', 'K', 'K-sample bound'].map(h => el('th', {}, h))),
      ev.map(e => el('tr', {}, el('td', {}, when(Date.parse(e.time))), el('td', {}, e.checkpoint), el('td', { class: 'num' }, String(e.iteration)),
        el('td', {}, e.split), el('td', { class: 'num' }, String(e.images)), el('td', {}, e.dequantization), el('td', {}, e.precision), el('td', {}, e.weights || 'raw'),
        el('td', { class: 'num' }, fmt(e.bpd)), el('td', { class: 'num' }, String(e.samples)),
        el('td', { class: 'num' }, e.samples > 1 ? fmt(e.bpd_bound) : '–'))))
      : el('p', { class: 'muted' }, 'none yet: ', el('code', {}, 'woodflow eval --checkpoint RUN --samples 16'),
        ' records the one-sample figure and the K-sample importance-weighted bound here'));
  };
  const redraw = () => {
    const a = curveColumns(records, byIteration), b = curveColumns(records, byTime);
    charts[0].setData(a.cols);
    charts[1].setData(b.cols);
    const lr = lrColumns(records);
    rates.setData(lr);
    dash.lrPoints = lr[0].length;
    dash.points = a.points;
    events.replaceChildren(...records.filter(r => r.event).map(r => el('li', {},
      'iteration ' + r.iteration + ': ' + r.event + (r.restored ? ' from ' + r.restored : '') + (num(r.lr) != null ? ', learning rate now ' + r.lr.toPrecision(3) : ''))));
  };
  showInfo(info);
  showFiles(info);
  let polls = 0, version = '';
  every(2000, async () => {
    const m = await getJson('/api/metrics?id=' + encodeURIComponent(id) + '&since=' + records.length
      + (version ? '&version=' + encodeURIComponent(version) : ''));
    version = m.version;
    if (m.reset) records = [];
    if (m.reset || m.records.length) { records = records.concat(m.records); redraw(); }
    showInfo(m.run);
    if (++polls % 5 === 0 || m.records.length) showFiles(await getJson('/api/run?id=' + encodeURIComponent(id)));
    showMessage(null);
  });
}

async function checkpointPicker(id) {
  const d = await getJson('/api/run?id=' + encodeURIComponent(id));
  const select = el('select', { id: 'checkpoint' }, d.checkpoints.map(c => el('option', { value: c.name }, c.name)));
  if (params.get('checkpoint')) select.value = params.get('checkpoint');
  return { select, info: d };
}

// ---------------------------------------------------------------- sampler
async function samplerPage() {
  const id = params.get('id');
  nav(id);
  const main = document.getElementById('main');
  let picker;
  try { picker = await checkpointPicker(id); } catch (e) { main.replaceChildren(el('p', { class: 'error' }, e.message)); return; }
  if (!picker.info.checkpoints.length) { main.replaceChildren(el('h1', {}, 'Sampler · ' + id), el('p', { class: 'muted' }, 'This run has no checkpoint yet.')); return; }
  const temperature = el('input', { type: 'range', id: 'temperature', min: 0.05, max: 1.2, step: 0.05, value: params.get('temperature') || 0.7 });
  const tValue = el('b', { id: 'temperature-value' });
  const seed = el('input', { type: 'number', id: 'seed', value: params.get('seed') || 0, min: 0 });
  const count = el('select', { id: 'count' }, [16, 32, 64].map(n => el('option', { value: n }, n)));
  // bf16-mixed: the coupling networks in bfloat16 (the default where this CPU has native bf16 kernels), the invertible
  // path in float32
  const precision = el('select', { id: 'precision', title: 'this CPU: bf16 kernels ' + (picker.info.bf16_kernels || '?') },
    ['bf16-mixed', 'fp32'].map(p => el('option', { value: p }, p)));
  precision.value = params.get('precision') || picker.info.sample_precision || 'fp32';
  const image = el('img', { id: 'samples', class: 'samples', alt: 'samples' });
  const status = el('p', { class: 'muted', id: 'sample-status' });
  const recon = el('img', { id: 'reconstructions', class: 'samples', alt: 'reconstructions', hidden: true });
  const reconStatus = el('p', { class: 'muted' });
  // a class-conditional model: one class, or a row per class
  const classes = picker.info.classes || [];
  const klass = el('select', { id: 'class' }, [el('option', { value: '' }, 'a row per class')]
    .concat(classes.map(c => el('option', { value: c }, c))));
  if (params.get('class')) klass.value = params.get('class');
  // latent interpolation between two test images
  const pointA = el('input', { type: 'number', id: 'interp-a', value: 0, min: 0 });
  const pointB = el('input', { type: 'number', id: 'interp-b', value: 1, min: 0 });
  const steps = el('input', { type: 'number', id: 'interp-steps', value: 8, min: 2, max: 64 });
  const mode = el('select', { id: 'interp-mode' }, ['linear', 'spherical', 'both'].map(m => el('option', { value: m }, m)));
  const strip = el('img', { id: 'interpolation', class: 'samples', alt: 'interpolation', hidden: true });
  const stripStatus = el('p', { class: 'muted', id: 'interp-status' });
  main.replaceChildren(el('h1', {}, 'Sampler · ' + id),
    el('p', { class: 'muted' }, 'Samples drawn exactly from the model: latents from the prior with their spread scaled by ',
      'the temperature, run backwards through the flow. The same seed gives the same noise, so moving the slider shows ',
      'one set of samples at another temperature.'),
    el('div', { class: 'controls panel' },
      el('label', {}, 'checkpoint', picker.select),
      el('label', {}, 'temperature', temperature, tValue),
      el('label', {}, 'seed', seed, el('button', { onclick: () => { seed.value = Number(seed.value) + 1; request(); } }, 'another')),
      el('label', {}, 'samples', count),
      el('label', {}, 'precision', precision),
      classes.length ? el('label', {}, 'class', klass) : ''),
    el('div', { class: 'panel' }, image, status),
    el('h2', {}, 'Interpolation'),
    el('div', { class: 'panel' }, el('p', { class: 'muted' }, 'Two test images are encoded (every level\'s latent), ',
      'the latents interpolated (linear, or spherical: along the great circle, which keeps the Gaussian latents\' norm) and ',
      'decoded; the ends are the images themselves.' + (classes.length ? ' The classes are the images\' own, mixed along the path.' : '')),
      el('div', { class: 'controls' }, el('label', {}, 'test image A', pointA), el('label', {}, 'test image B', pointB),
        el('label', {}, 'steps', steps), el('label', {}, 'path', mode),
        el('button', { id: 'interpolate', onclick: interpolate }, 'interpolate')), strip, stripStatus),
    el('h2', {}, 'Reconstructions'),
    el('div', { class: 'panel' }, el('p', { class: 'muted' }, 'Top: test images; bottom: decode(encode(x)), exact up to ',
      'rounding.'), el('button', { id: 'reconstruct', onclick: reconstruct }, 'reconstruct test images'), recon, reconStatus));
  let seq = 0, timer = null, shownUrl = null;
  async function request() {
    tValue.textContent = Number(temperature.value).toFixed(2);
    const mine = ++seq;
    const url = '/api/sample?id=' + encodeURIComponent(id) + '&checkpoint=' + encodeURIComponent(picker.select.value)
      + '&temperature=' + temperature.value + '&seed=' + seed.value + '&count=' + count.value
      + '&precision=' + precision.value
      + (classes.length && klass.value ? '&class=' + encodeURIComponent(klass.value) : '');
    const t0 = performance.now();
    status.textContent = 'sampling…';
    try {
      const r = await fetch(url);
      if (!r.ok) throw new Error((await r.json().catch(() => ({}))).error || r.statusText);
      const bytes = await r.arrayBuffer();
      if (mine !== seq) return; // a newer request is on its way
      if (shownUrl) URL.revokeObjectURL(shownUrl);
      shownUrl = URL.createObjectURL(new Blob([bytes], { type: 'image/png' }));
      image.src = shownUrl;
      dash.sampleDigest = digest(bytes);
      dash.sampleCount++;
      status.textContent = count.value + ' samples at temperature ' + Number(temperature.value).toFixed(2) + ', seed '
        + seed.value + (classes.length ? ', ' + (klass.value ? 'class ' + klass.value : 'a row per class (' + classes.join(', ') + ')') : '')
        + ', ' + (r.headers.get('X-Woodflow-Precision') ?? precision.value) + ' ('
        + (r.headers.get('X-Woodflow-Milliseconds') ?? Math.round(performance.now() - t0)) + ' ms in the server)';
    } catch (e) {
      if (mine === seq) status.replaceChildren(el('span', { class: 'error' }, e.message));
    }
  }
  async function interpolate() {
    stripStatus.textContent = 'interpolating…';
    try {
      const r = await fetch('/api/interpolate?id=' + encodeURIComponent(id) + '&checkpoint=' + encodeURIComponent(picker.select.value)
        + '&a=' + pointA.value + '&b=' + pointB.value + '&steps=' + steps.value + '&mode=' + mode.value);
      if (!r.ok) throw new Error((await r.json().catch(() => ({}))).error || r.statusText);
      const bytes = await r.arrayBuffer();
      strip.src = URL.createObjectURL(new Blob([bytes], { type: 'image/png' }));
      strip.hidden = false;
      dash.interpolationDigest = digest(bytes);
      dash.interpolations = (dash.interpolations || 0) + 1;
      stripStatus.textContent = '';
    } catch (e) { stripStatus.replaceChildren(el('span', { class: 'error' }, e.message)); }
  }
  async function reconstruct() {
    reconStatus.textContent = 'reconstructing…';
    try {
      const r = await fetch('/api/reconstructions?id=' + encodeURIComponent(id) + '&checkpoint=' + encodeURIComponent(picker.select.value));
      if (!r.ok) throw new Error((await r.json().catch(() => ({}))).error || r.statusText);
      recon.src = URL.createObjectURL(await r.blob());
      recon.hidden = false;
      reconStatus.textContent = '';
    } catch (e) { reconStatus.replaceChildren(el('span', { class: 'error' }, e.message)); }
  }
  const soon = () => { tValue.textContent = Number(temperature.value).toFixed(2); clearTimeout(timer); timer = setTimeout(request, 120); };
  temperature.addEventListener('input', soon);
  for (const c of [seed, count, precision, picker.select, klass]) c.addEventListener('change', request);
  picker.select.addEventListener('change', reconstruct);
  request().then(reconstruct);
}

// A short fingerprint of a response (FNV-1a), so a test can tell two images apart.
function digest(buffer) {
  const b = new Uint8Array(buffer);
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) { h ^= b[i]; h = Math.imul(h, 0x01000193) >>> 0; }
  return h.toString(16) + ':' + b.length;
}

// ---------------------------------------------------------------- compare
async function comparePage() {
  nav(null);
  const main = document.getElementById('main');
  const all = await getJson('/api/runs');
  let chosen = (params.get('runs') || '').split(',').filter(s => s && all.some(r => r.id === s));
  const checks = el('div', { class: 'checks' }, all.map(r => el('label', {}, el('input', {
    type: 'checkbox', value: r.id, checked: chosen.includes(r.id),
    onchange: e => { chosen = e.target.checked ? chosen.concat(r.id) : chosen.filter(x => x !== r.id); update(); },
  }), ' ', r.id)));
  const link = el('a', { id: 'compare-link' });
  const chartBox = el('div', { class: 'panel chart', id: 'compare-chart' });
  const table = el('div', { id: 'compare-table' });
  main.replaceChildren(el('h1', {}, 'Compare runs'),
    el('div', { class: 'panel' }, el('p', { class: 'muted' }, 'Pick runs; the link below keeps the selection. The curves refresh every 5 s.'), checks,
      el('p', { class: 'small' }, 'link to this comparison: ', link)),
    el('h2', {}, 'Learning curves'), chartBox, el('h2', {}, 'Summaries'), table);
  let chart = null;
  async function update() {
    const query = chosen.length ? '?runs=' + chosen.map(encodeURIComponent).join(',') : '';
    history.replaceState(null, '', '/compare' + query);
    link.href = '/compare' + query;
    link.textContent = location.origin + '/compare' + query;
    const metrics = await Promise.all(chosen.map(id => getJson('/api/metrics?id=' + encodeURIComponent(id))));
    // one x column (iterations of every run), two series per run: test bpd and train bpd
    const xs = [...new Set(metrics.flatMap(m => m.records.map(r => num(r.iteration)).filter(x => x != null)))].sort((a, b) => a - b);
    const at = new Map(xs.map((x, i) => [x, i]));
    const data = [xs];
    const series = [{ label: 'iteration' }];
    metrics.forEach((m, k) => {
      const test = xs.map(() => null), train = xs.map(() => null);
      for (const r of m.records) {
        const i = at.get(num(r.iteration));
        if (i == null) continue;
        if (num(r.test_bpd) != null) test[i] = r.test_bpd;
        if (num(r.train_bpd) != null) train[i] = r.train_bpd;
      }
      const colour = COLOURS[k % COLOURS.length];
      data.push(test, train);
      series.push({ label: chosen[k] + ' test', stroke: colour, width: 2, spanGaps: true, points: { show: true, size: 5 } },
        { label: chosen[k] + ' train', stroke: colour, width: 1, dash: [5, 4], spanGaps: true });
    });
    const labels = series.map(s => s.label).join('\n');
    if (chart && chart.labels === labels) {
      chart.setData(data); // the same runs, newer lines: update the chart in place
    } else {
      if (chart) chart.destroy();
      chartBox.replaceChildren();
      chart = chosen.length ? new uPlot({
        title: 'bpd vs iteration (solid: test, dashed: train)', width: Math.max(300, chartBox.clientWidth - 28), height: 360,
        scales: { x: { time: false } }, axes: [{ label: 'iteration' }, { label: 'bits per dimension', size: 60 }], series,
      }, data, chartBox) : null;
      if (chart) chart.labels = labels;
      else chartBox.append(el('p', { class: 'muted' }, 'Pick two or more runs above.'));
    }
    dash.series = series.slice(1).map(s => s.label);
    const rows = chosen.map(id => metrics[chosen.indexOf(id)].run);
    table.replaceChildren(el('table', {}, el('tr', {}, ['run', 'status', 'model', 'iterations', 'test bpd', 'best test bpd',
      'images/s', 'skipped', 'precision'].map(h => el('th', {}, h))), rows.map((r, k) => el('tr', {},
      el('td', {}, el('span', { style: 'color: ' + COLOURS[k % COLOURS.length] }, '■ '), el('a', { href: runUrl('run', r.id) }, r.id)),
      el('td', {}, badge(r.status)), el('td', {}, r.model || '–'),
      el('td', { class: 'num' }, (r.iterations ?? '–') + (r.total_iterations ? ' / ' + r.total_iterations : '')),
      el('td', { class: 'num' }, fmt(r.test_bpd)), el('td', { class: 'num' }, fmt(r.best_test_bpd)),
      el('td', { class: 'num' }, fmt(r.images_per_s, 1)), el('td', { class: 'num' }, r.skipped_steps ?? '–'),
      el('td', {}, r.precision || '–')))));
  }
  await update();
  setInterval(() => update().catch(e => showMessage(e.message)), 5000); // runs that are still training move on
}

// ---------------------------------------------------------------- score
async function scorePage() {
  const id = params.get('id');
  nav(id);
  const main = document.getElementById('main');
  let picker;
  try { picker = await checkpointPicker(id); } catch (e) { main.replaceChildren(el('p', { class: 'error' }, e.message)); return; }
  if (!picker.info.checkpoints.length) { main.replaceChildren(el('h1', {}, 'Score · ' + id), el('p', { class: 'muted' }, 'This run has no checkpoint yet.')); return; }
  const file = el('input', { type: 'file', id: 'image-file', accept: 'image/png,image/jpeg,image/webp' });
  const drop = el('div', { class: 'drop', id: 'drop' }, el('p', {}, 'Drop an image here (PNG, JPEG or WebP, at most 8 MB), or '), file);
  const result = el('div', { id: 'score-result' });
  const chartBox = el('div', { class: 'panel chart', id: 'histogram' });
  const note = el('p', { class: 'muted small' });
  main.replaceChildren(el('h1', {}, 'Score · ' + id),
    el('p', { class: 'muted' }, 'The image is centre-cropped and resized to the model\'s size as an image folder is, then its ',
      'exact bits per dimension under the checkpoint are shown against the test set\'s (lower is more likely).'),
    el('div', { class: 'controls' }, el('label', {}, 'checkpoint', picker.select)),
    el('div', { class: 'row' }, el('div', { class: 'panel' }, drop, result), el('div', { style: 'flex: 2 1 0; min-width: 0' }, chartBox, note)));
  let test = null, mine = null, chart = null;
  function draw() {
    if (!test) return;
    const values = test.concat(mine == null ? [] : [mine]);
    const lo = Math.min(...values), hi = Math.max(...values);
    const bins = 30, w = (hi - lo) / bins || 1;
    const centres = [...Array(bins).keys()].map(i => lo + (i + 0.5) * w);
    const counts = centres.map(() => 0);
    for (const v of test) counts[Math.min(bins - 1, Math.floor((v - lo) / w))]++;
    const marker = centres.map(() => null);
    if (mine != null) marker[Math.min(bins - 1, Math.floor((mine - lo) / w))] = Math.max(1, ...counts) ;
    if (chart) chart.destroy();
    chartBox.replaceChildren();
    chart = new uPlot({
      title: 'test set bpd (' + test.length + ' images)' + (mine != null ? ' and your image' : ''),
      width: Math.max(300, chartBox.clientWidth - 28), height: 320, scales: { x: { time: false } },
      axes: [{ label: 'bits per dimension' }, { label: 'images', size: 50 }],
      series: [{ label: 'bpd', value: (u, v) => v == null ? '–' : v.toFixed(3) },
        { label: 'test images', stroke: COLOURS[0], fill: COLOURS[0] + '88', paths: uPlot.paths.bars({ size: [0.95, 100] }), points: { show: false } },
        { label: 'your image', stroke: COLOURS[1], fill: COLOURS[1], paths: uPlot.paths.bars({ size: [0.5, 100] }), points: { show: false } }],
    }, [centres, counts, marker], chartBox);
  }
  async function loadTest() {
    test = null;
    chartBox.replaceChildren(el('p', { class: 'muted' }, 'computing the test set\'s bpd (once per checkpoint)…'));
    try {
      const t = await getJson('/api/test-bpd?id=' + encodeURIComponent(id) + '&checkpoint=' + encodeURIComponent(picker.select.value));
      test = t.test_bpd;
      const sorted = test.slice().sort((a, b) => a - b);
      note.textContent = 'test set: ' + test.length + ' images, median ' + sorted[sorted.length >> 1].toFixed(4) + ' bpd';
      draw();
    } catch (e) { chartBox.replaceChildren(el('p', { class: 'error' }, e.message)); }
  }
  async function score(f) {
    if (!f) return;
    if (f.size > 8 << 20) { result.replaceChildren(el('p', { class: 'error' }, f.name + ' is larger than 8 MB')); return; }
    result.replaceChildren(el('p', { class: 'muted' }, 'scoring ' + f.name + '…'));
    try {
      const s = await getJson('/api/score?id=' + encodeURIComponent(id) + '&checkpoint=' + encodeURIComponent(picker.select.value),
        { method: 'POST', body: f, headers: { 'Content-Type': 'application/octet-stream' } });
      mine = s.bpd;
      test = s.test_bpd;
      const below = test.filter(v => v < mine).length;
      result.replaceChildren(el('p', { class: 'big', id: 'score-bpd' }, s.bpd.toFixed(4) + ' bpd'),
        el('p', {}, f.name + ': more bits than ' + Math.round(100 * below / test.length) + '% of the test images'),
        s.likeliest_class ? el('p', { id: 'score-class' }, 'likeliest class: ' + s.likeliest_class
          + ' (the bpd is of p(x) averaged over the classes; the test images are scored given their own)') : '',
        el('figure', {}, el('img', { src: s.image, class: 'samples', alt: 'the image as the model sees it' }),
          el('figcaption', { class: 'small muted' }, 'as the model sees it')));
      draw();
    } catch (e) {
      mine = null;
      result.replaceChildren(el('p', { class: 'error', id: 'score-error' }, e.message));
      draw();
    }
  }
  file.addEventListener('change', () => score(file.files[0]));
  drop.addEventListener('dragover', e => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', e => { e.preventDefault(); drop.classList.remove('over'); score(e.dataTransfer.files[0]); });
  picker.select.addEventListener('change', () => { mine = null; result.replaceChildren(); loadTest(); });
  loadTest();
}

const PAGES = { runs: runsPage, run: runPage, sampler: samplerPage, compare: comparePage, score: scorePage };
Promise.resolve().then(PAGES[document.body.dataset.page]).catch(e => showMessage(e.message));
