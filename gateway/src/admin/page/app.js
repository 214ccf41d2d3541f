'use strict';
// The Hookgate admin page: a few views over the admin API (/api/…), routed by the URL's hash.
// The token lives in sessionStorage (this tab only, never in a URL) and goes out as a bearer
// header. Everything shown is built with textContent, never parsed as HTML: target names,
// errors and receivers' answers come from outside.

const TOKEN = 'hookgate.admin-token';
const REFRESH_MS = 2000;

const $ = (id) => document.getElementById(id);

/** An element with attributes (`text`, `class`, `on…` listeners, the rest as is) and children. */
function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  setAttrs(e, attrs);
  e.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return e;
}

/** The same for SVG. */
function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  setAttrs(e, attrs);
  e.append(...children);
  return e;
}

function setAttrs(e, attrs) {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') e.textContent = v;
    else if (k === 'class') e.setAttribute('class', v);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
}

// ---- API ----

class ApiError extends Error {
  constructor(status, detail) {
    super(status ? `${detail} (HTTP ${status})` : detail);
    this.status = status;
  }
  get auth() {
    return this.status === 401 || this.status === 403;
  }
}

async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${sessionStorage.getItem(TOKEN) || ''}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, `The gateway did not answer: ${e.message}`);
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, data.detail || res.statusText);
  return data;
}

const enc = encodeURIComponent;

// ---- feedback ----

let toastTimer;
/** Says what an action did (or why it failed) where screen readers hear it too. */
function toast(message, kind = 'ok') {
  const t = $('toast');
  t.textContent = message;
  t.className = kind;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    t.textContent = '';
    t.className = '';
  }, kind === 'error' ? 15000 : 8000);
}

/** Runs one button's action: busy while it runs, its result or error shown, then a refresh. */
async function act(button, work) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    toast(await work());
  } catch (e) {
    if (e.auth) return logout(e.message);
    toast(e.message, 'error');
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
  await refresh();
}

/** Asks before a sensitive action; resolves true on OK. */
function confirmDialog({ title, text, ok, extra = [] }) {
  const d = $('confirm');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-extra').replaceChildren(...extra);
  $('confirm-ok').textContent = ok;
  d.returnValue = '';
  d.showModal();
  return new Promise((resolve) =>
    d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true }));
}

// ---- formatting ----

function ago(ms) {
  if (ms === null || ms === undefined) return '—';
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 5) return 'just now';
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return new Date(ms).toLocaleDateString();
}

function when(ms) {
  return h('time', { datetime: new Date(ms).toISOString(), title: new Date(ms).toISOString(), text: ago(ms) });
}

function clock(ms) {
  return h('time', {
    datetime: new Date(ms).toISOString(),
    title: new Date(ms).toISOString(),
    text: new Date(ms).toLocaleTimeString(),
  });
}

const percent = (r) => (r === null || r === undefined ? '—' : `${(r * 100).toFixed(1)} %`);
const bytes = (n) => (n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KiB`);

function badge(state, circuitOpen) {
  return h('span', { class: `state state-${state}`, text: circuitOpen ? `${state}, circuit open` : state });
}

// ---- tables ----

/**
 * A table whose rows are updated in place on each refresh: a row is rebuilt only when its
 * data changed, so buttons and links keep working under live refresh. Columns: {key, label,
 * cell(item) -> Node|string, sort(item) -> value (sortable when given)}.
 */
function table(caption, columns, { keyOf, empty, sort }) {
  const state = { sort };
  const head = h('tr');
  const body = h('tbody');
  const none = h('p', { class: 'empty', text: empty, hidden: true });
  const wrap = h('div', { class: 'scroll' },
    h('table', {}, h('caption', { text: caption }), h('thead', {}, head), body));
  let items = [];
  const draw = () => {
    const col = columns.find((c) => c.key === state.sort?.key);
    const sorted = col
      ? [...items].sort((a, b) => compare(col.sort(a), col.sort(b)) * state.sort.dir)
      : items;
    const old = new Map([...body.rows].map((r) => [r.dataset.key, r]));
    const rows = sorted.map((item) => {
      const key = keyOf(item);
      const sig = JSON.stringify(item) + Math.floor(Date.now() / 5000);
      let row = old.get(key);
      if (!row || row.dataset.sig !== sig) {
        const cells = columns.map((c) => h(c.key === columns[0].key ? 'th' : 'td',
          { 'data-col': c.key, scope: c.key === columns[0].key ? 'row' : null }, c.cell(item)));
        if (row) row.replaceChildren(...cells);
        else row = h('tr', { 'data-key': key }, cells);
        row.dataset.sig = sig;
      }
      return row;
    });
    if (rows.length !== body.rows.length || rows.some((r, i) => body.rows[i] !== r)) {
      body.replaceChildren(...rows);
    }
    none.hidden = items.length > 0;
    wrap.hidden = items.length === 0;
    for (const th of head.children) {
      const on = state.sort?.key === th.dataset.col;
      if (th.dataset.sortable) {
        th.setAttribute('aria-sort', on ? (state.sort.dir > 0 ? 'ascending' : 'descending') : 'none');
      }
    }
  };
  for (const c of columns) {
    const th = h('th', { scope: 'col', 'data-col': c.key });
    if (c.sort) {
      th.dataset.sortable = 'yes';
      th.append(h('button', {
        type: 'button',
        class: 'sort',
        text: c.label,
        onclick: () => {
          const dir = state.sort?.key === c.key ? -state.sort.dir : 1;
          state.sort = { key: c.key, dir };
          draw();
        },
      }));
    } else {
      th.textContent = c.label;
    }
    head.append(th);
  }
  return {
    node: h('div', {}, wrap, none),
    set(next) {
      items = next;
      draw();
    },
  };
}

function compare(a, b) {
  const missing = (v) => v === null || v === undefined;
  if (missing(a) || missing(b)) return missing(a) - missing(b);
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b));
}

// ---- views ----

/** Targets: the table operators check first. */
function targetsView() {
  const rows = table('Outbound targets', [
    { key: 'name', label: 'Name', sort: (t) => t.name,
      cell: (t) => h('a', { href: `#/targets/${enc(t.name)}`, text: t.name }) },
    { key: 'url', label: 'URL', sort: (t) => t.url, cell: (t) => h('span', { class: 'url', text: t.url }) },
    { key: 'events', label: 'Events', cell: (t) => t.events.join(', ') || '—' },
    { key: 'state', label: 'Status', sort: (t) => t.state, cell: (t) => badge(t.state, t.circuit.open) },
    { key: 'success_rate', label: 'Success rate', sort: (t) => t.stats.success_rate,
      cell: (t) => percent(t.stats.success_rate) },
    { key: 'delivered', label: 'Delivered', sort: (t) => t.stats.delivered, cell: (t) => String(t.stats.delivered) },
    { key: 'failed', label: 'Failed', sort: (t) => t.stats.failed, cell: (t) => String(t.stats.failed) },
    { key: 'pending', label: 'Waiting', sort: (t) => t.stats.pending, cell: (t) => String(t.stats.pending) },
    { key: 'last_delivery', label: 'Last delivery', sort: (t) => t.stats.last_delivery_ms,
      cell: (t) => when(t.stats.last_delivery_ms) },
  ], { keyOf: (t) => t.name, empty: 'No targets: add [targets.<name>] sections to the config.',
    sort: { key: 'name', dir: 1 } });
  const problem = h('p', { class: 'error', role: 'alert' });
  $('view').replaceChildren(h('h1', { text: 'Targets' }), problem, rows.node);
  return {
    problem,
    async refresh() {
      rows.set((await api('GET', '/api/targets')).targets);
    },
  };
}

/** One target: its numbers, the last hour, recent attempts and the operator's buttons. */
function targetView(name) {
  const path = `/api/targets/${enc(name)}`;
  let target = null;
  const title = h('h1', {}, name);
  const state = h('span');
  const info = h('p', { class: 'info' });
  const toggle = h('button', {
    type: 'button', id: 'toggle', text: 'Pause',
    onclick: () => act(toggle, async () => {
      const resume = target && (target.state === 'paused' || target.state === 'disabled');
      const r = await api('POST', `${path}/${resume ? 'resume' : 'pause'}`);
      return resume ? `${name} is ${r.state}: waiting deliveries flow again.`
        : `${name} is paused: new deliveries wait until you activate it.`;
    }),
  });
  const test = h('button', {
    type: 'button', id: 'send-test', text: 'Send test',
    onclick: () => act(test, async () => {
      const r = await api('POST', `${path}/test`);
      return `Test delivery ${r.delivery} queued for ${name}.`;
    }),
  });
  const replay = h('button', {
    type: 'button', id: 'replay', text: 'Replay dead',
    onclick: () => act(replay, async () => {
      const r = await api('POST', `${path}/replay`);
      return `${r.replayed} dead ${r.replayed === 1 ? 'delivery' : 'deliveries'} of ${name} queued again.`;
    }),
  });
  const secretBox = h('div', { class: 'secret', id: 'secret', hidden: true });
  const showSecrets = (r) => {
    secretBox.replaceChildren(
      h('h2', { text: 'Signing secrets' }),
      h('p', { text: r.source === 'generated'
        ? 'Generated by Hookgate. The first one signs; others still sign until they expire.'
        : 'From the config file: rotate it there.' }),
      h('ul', {}, r.secrets.map((s) => h('li', {},
        h('code', { text: s.secret }),
        s.expires_ms ? h('span', { class: 'muted', text: ` until ${new Date(s.expires_ms).toISOString()}` }) : null))),
      h('button', { type: 'button', class: 'quiet', text: 'Hide', onclick: () => { secretBox.hidden = true; secretBox.replaceChildren(); } }));
    secretBox.hidden = false;
  };
  const reveal = h('button', {
    type: 'button', id: 'reveal', text: 'Reveal secret', hidden: true,
    onclick: async () => {
      const ok = await confirmDialog({
        title: `Reveal ${name}'s signing secret?`,
        text: 'Anyone who sees it can sign requests as Hookgate to this receiver.',
        ok: 'Reveal',
      });
      if (!ok) return;
      await act(reveal, async () => {
        showSecrets(await api('GET', `${path}/secret`));
        return `Signing secret of ${name} shown.`;
      });
    },
  });
  const rotate = h('button', {
    type: 'button', id: 'rotate', text: 'Rotate secret', hidden: true,
    onclick: async () => {
      const grace = h('input', { id: 'grace', name: 'grace', value: '24h', required: true, size: 8 });
      const ok = await confirmDialog({
        title: `Rotate ${name}'s signing secret?`,
        text: 'A new secret signs from now on; the old one also signs for the grace period, so the receiver can switch without losing deliveries.',
        ok: 'Rotate',
        extra: [h('label', { for: 'grace', text: 'Grace period (e.g. 24h, 30m, 0s)' }), grace],
      });
      if (!ok) return;
      await act(rotate, async () => {
        showSecrets(await api('POST', `${path}/secret/rotate`, { grace: grace.value.trim() }));
        return `Signing secret of ${name} rotated; the old one signs for ${grace.value.trim()}.`;
      });
    },
  });
  const numbers = h('dl', { class: 'numbers' });
  const chart = h('figure', { class: 'chart' });
  const attempts = table('Recent attempts, newest first', [
    { key: 'at', label: 'Time', cell: (a) => clock(a.at_ms) },
    { key: 'status', label: 'Status', cell: (a) => h('span', { class: `result-${a.status}`, text: a.status }) },
    { key: 'http', label: 'HTTP', cell: (a) => (a.http_status === null ? '—' : String(a.http_status)) },
    { key: 'duration', label: 'Duration', cell: (a) => `${a.duration_ms} ms` },
    { key: 'size', label: 'Size', cell: (a) => bytes(a.request_bytes) },
    { key: 'delivery', label: 'Delivery', cell: (a) => h('code', { text: a.delivery }) },
    { key: 'detail', label: 'Error or answer', cell: (a) => h('span', { class: 'excerpt', text: a.error || a.response_excerpt }) },
  ], { keyOf: (a) => `${a.at_ms}-${a.delivery}`, empty: 'No attempts yet.' });
  const problem = h('p', { class: 'error', role: 'alert' });
  $('view').replaceChildren(
    h('p', { class: 'crumbs' }, h('a', { href: '#/targets', text: '← Targets' })),
    h('div', { class: 'heading' }, title, state),
    info, problem,
    h('div', { class: 'actions' }, toggle, test, replay, reveal, rotate),
    secretBox, numbers,
    h('h2', { text: 'Last hour' }), chart,
    h('h2', { text: 'Recent attempts' }), attempts.node,
  );
  return {
    problem,
    async refresh() {
      target = await api('GET', path);
      const s = target.stats;
      state.replaceChildren(badge(target.state, target.circuit.open));
      info.replaceChildren(h('span', { class: 'url', text: target.url }), ' · events: ',
        target.events.join(', ') || '—', target.signed ? ' · signed' : '');
      const held = target.state === 'paused' || target.state === 'disabled';
      toggle.textContent = held ? 'Activate' : 'Pause';
      replay.textContent = `Replay dead (${s.failed})`;
      replay.disabled = s.failed === 0;
      reveal.hidden = rotate.hidden = !target.signed;
      numbers.replaceChildren(...[
        ['Delivered', s.delivered], ['Failed', s.failed], ['Waiting', s.pending],
        ['Success rate', percent(s.success_rate)], ['Last delivery', when(s.last_delivery_ms)],
        ['Failures in a row', s.consecutive_failures],
      ].map(([k, v]) => h('div', { 'data-stat': k.toLowerCase().replaceAll(' ', '-') },
        h('dt', { text: k }), h('dd', {}, v instanceof Node ? v : String(v)))));
      drawChart(chart, target.last_hour);
      attempts.set(target.recent_attempts);
    },
  };
}

/** Stacked bars per minute: successes below, failures above. */
function drawChart(figure, minutes) {
  const ok = minutes.reduce((n, m) => n + m.success, 0);
  const bad = minutes.reduce((n, m) => n + m.failed, 0);
  const top = Math.max(1, ...minutes.map((m) => m.success + m.failed));
  const W = 10, H = 100;
  const bars = minutes.flatMap((m, i) => {
    const hs = (m.success / top) * H, hf = (m.failed / top) * H;
    const label = `${new Date(m.start_ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}: ${m.success} delivered, ${m.failed} failed`;
    return [
      svg('rect', { x: i * W + 1, y: H - hs, width: W - 2, height: hs, class: 'ok' }, svg('title', { text: label })),
      svg('rect', { x: i * W + 1, y: H - hs - hf, width: W - 2, height: hf, class: 'bad' }, svg('title', { text: label })),
    ];
  });
  const summary = `Last hour: ${ok} attempts delivered, ${bad} failed; busiest minute ${top === 1 && ok + bad === 0 ? 0 : top}.`;
  figure.replaceChildren(
    svg('svg', { viewBox: `0 0 ${minutes.length * W} ${H}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': summary },
      svg('line', { x1: 0, y1: H, x2: minutes.length * W, y2: H, class: 'axis' }), ...bars),
    h('div', { class: 'axis-labels' }, h('span', { text: '60 min ago' }), h('span', { text: `max ${top}/min` }), h('span', { text: 'now' })),
    h('figcaption', {}, h('span', { class: 'key ok' }), ` ${ok} delivered `, h('span', { class: 'key bad' }), ` ${bad} failed`));
  figure.dataset.delivered = ok;
  figure.dataset.failed = bad;
}

/** Plugins: what serves, which version, how it is doing, and files that failed to load. */
function pluginsView() {
  const plugins = table('Loaded plugins', [
    { key: 'name', label: 'Name', sort: (p) => p.name, cell: (p) => p.name },
    { key: 'version', label: 'Version', sort: (p) => p.version, cell: (p) => p.version },
    { key: 'sha256', label: 'sha256', cell: (p) => h('code', { title: p.sha256, text: p.sha256.slice(0, 12) }) },
    { key: 'routes', label: 'Routes', cell: (p) => h('span', {}, [p.routes.hooks, ...p.routes.paths,
      ...p.routes.user_agent_prefixes.map((u) => `User-Agent ${u}…`)].join(', ')) },
    { key: 'scheme', label: 'Signature', cell: (p) => `${p.scheme}${p.signed ? '' : ' (no secret)'}` },
    { key: 'invocations', label: 'Invocations', sort: (p) => p.invocations, cell: (p) => String(p.invocations) },
    { key: 'errors', label: 'Errors', sort: (p) => p.errors, cell: (p) => String(p.errors) },
    { key: 'reload', label: 'Last reload', sort: (p) => p.last_reload?.at,
      cell: (p) => (p.last_reload ? h('span', {}, `${p.last_reload.result} `, when(p.last_reload.at * 1000),
        p.last_reload.error ? h('span', { class: 'error', text: ` ${p.last_reload.error}` }) : null) : '—') },
  ], { keyOf: (p) => p.name, empty: 'No plugins loaded: drop .wasm files into the plugins folder.',
    sort: { key: 'name', dir: 1 } });
  const failures = table('Files that did not load (the version before keeps serving)', [
    { key: 'file', label: 'File', cell: (f) => h('code', { text: f.file }) },
    { key: 'plugin', label: 'Plugin', cell: (f) => f.status.plugin || '—' },
    { key: 'at', label: 'When', cell: (f) => when(f.status.at * 1000) },
    { key: 'error', label: 'Error', cell: (f) => h('span', { class: 'error', text: f.status.error || '' }) },
  ], { keyOf: (f) => f.file, empty: 'Every file loaded.' });
  const problem = h('p', { class: 'error', role: 'alert' });
  $('view').replaceChildren(h('h1', { text: 'Plugins' }), problem, plugins.node,
    h('h2', { text: 'Load errors' }), failures.node);
  return {
    problem,
    async refresh() {
      const r = await api('GET', '/api/plugins');
      plugins.set(r.plugins);
      failures.set(r.files.filter((f) => f.status.result === 'error'));
    },
  };
}

/** Dead deliveries: what gave up, why, and a way to send it again. */
function deadView() {
  const filter = h('select', { id: 'dead-target', onchange: () => refresh() },
    h('option', { value: '', text: 'all targets' }));
  const rows = table('Dead deliveries, newest first', [
    { key: 'created', label: 'Created', sort: (d) => d.created_ms, cell: (d) => when(d.created_ms) },
    { key: 'id', label: 'Delivery', cell: (d) => h('code', { text: d.id }) },
    { key: 'target', label: 'Target', sort: (d) => d.target,
      cell: (d) => h('a', { href: `#/targets/${enc(d.target)}`, text: d.target }) },
    { key: 'event', label: 'Event', sort: (d) => d.event_type, cell: (d) => d.event_type },
    { key: 'plugin', label: 'Plugin', cell: (d) => d.plugin },
    { key: 'attempts', label: 'Attempts', sort: (d) => d.attempts, cell: (d) => String(d.attempts) },
    { key: 'error', label: 'Last error', cell: (d) => h('span', { class: 'excerpt', text: d.last_error || '—' }) },
    { key: 'replay', label: 'Action', cell: (d) => {
      const b = h('button', { type: 'button', class: 'small', text: 'Replay',
        'aria-label': `Replay delivery ${d.id}`,
        onclick: () => act(b, async () => {
          await api('POST', `/api/deliveries/${enc(d.id)}/replay`);
          return `Delivery ${d.id} queued again for ${d.target}.`;
        }) });
      return b;
    } },
  ], { keyOf: (d) => d.id, empty: 'No dead deliveries.' });
  const problem = h('p', { class: 'error', role: 'alert' });
  $('view').replaceChildren(h('h1', { text: 'Dead deliveries' }),
    h('p', {}, h('label', { for: 'dead-target', text: 'Target ' }), filter), problem, rows.node);
  return {
    problem,
    async refresh() {
      const targets = (await api('GET', '/api/targets')).targets.map((t) => t.name);
      const have = [...filter.options].map((o) => o.value).slice(1);
      if (have.join('\n') !== targets.join('\n')) {
        const chosen = filter.value;
        filter.replaceChildren(h('option', { value: '', text: 'all targets' }),
          ...targets.map((t) => h('option', { value: t, text: t })));
        filter.value = chosen;
      }
      const q = filter.value ? `&target=${enc(filter.value)}` : '';
      rows.set((await api('GET', `/api/deliveries?state=dead&limit=200${q}`)).deliveries);
    },
  };
}

// ---- routing, refresh, session ----

let current = null;
let refreshing = null;

/** Refreshes the current view once (joins a refresh already running). */
function refresh() {
  if (!current) return Promise.resolve();
  if (refreshing) return refreshing;
  const view = current;
  refreshing = view.refresh().then(
    () => { view.problem.textContent = ''; document.body.dataset.refreshed = Date.now(); },
    (e) => {
      if (e.auth) return logout(e.message);
      view.problem.textContent = `Could not load: ${e.message}`;
    },
  ).finally(() => { refreshing = null; });
  return refreshing;
}

function route() {
  if (!sessionStorage.getItem(TOKEN)) return showLogin();
  const [view, ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  $('login').hidden = true;
  $('nav').hidden = $('session').hidden = false;
  const arg = rest.length ? decodeURIComponent(rest.join('/')) : null;
  const which = view === 'targets' && arg ? 'target' : view || 'targets';
  const make = { targets: targetsView, target: () => targetView(arg), plugins: pluginsView, dead: deadView }[which];
  const active = which === 'target' ? 'targets' : which;
  for (const a of $('nav').querySelectorAll('a')) {
    if (a.dataset.view === active) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!make) {
    current = null;
    $('view').replaceChildren(h('h1', { text: 'Not found' }), h('p', {}, 'No such view. ', h('a', { href: '#/targets', text: 'Targets' })));
    return;
  }
  current = make();
  document.title = `${which === 'target' ? arg : $('view').querySelector('h1')?.textContent} · Hookgate admin`;
  refresh();
}

function showLogin(message = '') {
  current = null;
  $('view').replaceChildren();
  $('nav').hidden = $('session').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
  $('token').focus();
}

function logout(message = '') {
  sessionStorage.removeItem(TOKEN);
  showLogin(message);
}

$('login').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const button = ev.submitter;
  button.disabled = true;
  sessionStorage.setItem(TOKEN, $('token').value.trim());
  try {
    await api('GET', '/api/targets');
    $('token').value = '';
    if (!location.hash) location.hash = '#/targets';
    route();
  } catch (e) {
    sessionStorage.removeItem(TOKEN);
    $('login-error').textContent = e.auth ? 'That is not the admin token.' : e.message;
  } finally {
    button.disabled = false;
  }
});
$('logout').addEventListener('click', () => logout('Logged out.'));
$('confirm-cancel').addEventListener('click', () => $('confirm').close('cancel'));
window.addEventListener('hashchange', route);
setInterval(() => {
  if ($('live').checked && !document.hidden) refresh();
}, REFRESH_MS);
route();
