// The review report's script (see report_page.h). It reads the two JSON
// data blocks and renders the summary, the filters and one page of sample
// cards at a time, so 100,000 samples cost one JSON.parse and a sort, never
// 100,000 cards. Every untrusted string goes through textContent (el()), or
// through setAttribute for data attributes; nothing is parsed as HTML. The
// filter state lives in the URL fragment (#status=failed&q=dog&sort=score).
#include "report/report_page.h"

namespace groundcap {

std::string_view ReportScript() {
  static constexpr std::string_view kScript = R"JS(
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const SVGNS = 'http://www.w3.org/2000/svg';
  const PALETTE = ['#e6194b', '#3163d8', '#1e9e4a', '#f07f13', '#8e2fc0', '#0aa3b5', '#d6338a', '#8a6a10', '#5d7a00', '#243b9e'];
  const color = (k) => PALETTE[k % PALETTE.length];
  const MAXW = 400, MAXH = 330;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  const fmtInt = (n) => Number(n || 0).toLocaleString('en-US');
  const fmtShort = (n) => (n >= 1e6 ? (n / 1e6).toFixed(n >= 1e7 ? 0 : 1) + 'M' : n >= 1e4 ? Math.round(n / 1e3) + 'k' :
                           n >= 1e3 ? (n / 1e3).toFixed(1) + 'k' : String(n));
  const fmtScore = (v) => (v >= 0 ? v.toFixed(2) : '\u2013');

  const samples = JSON.parse($('gc-samples').textContent);
  const summary = JSON.parse($('gc-summary').textContent);
  const stats = summary.stats || {};
  const run = summary.run || null;
  const isRegion = summary.kind === 'region_caption';

  // Per-sample figures the filters and sorts need, computed once.
  for (const s of samples) {
    let nb = 0, min = Infinity, nobox = false, nospan = false;
    for (const it of s.it) {
      nb += it.b.length;
      if (!it.b.length && s.st !== 'failed' && !it.st) nobox = true;
      if (it.nf) nospan = true;
      for (const b of it.b) if (b[4] >= 0 && b[4] < min) min = b[4];
    }
    s._nb = nb;
    s._min = min === Infinity ? -1 : min;
    s._nobox = nobox;
    s._nospan = nospan;
    s._acc = s.ev ? (s.ev[0] ? s.ev[1] / s.ev[0] : 1) : 2;
  }
  function haystack(s) {
    if (s._hay === undefined) {
      const parts = [s.cap, s.inc, s.id, s.img, s.ek, s.em];
      for (const it of s.it) parts.push(it.t, it.rc, it.ex);
      if (s.wa) parts.push(...s.wa);
      s._hay = parts.filter(Boolean).join('\n').toLowerCase();
    }
    return s._hay;
  }

  // ---- state in the URL fragment ----
  const DEFAULTS = { status: 'all', kind: '', flag: '', nobox: '', nospan: '', below: '', q: '',
                     sort: summary.eval ? 'eval' : 'input', page: '1', per: '25' };
  function readState() {
    const p = new URLSearchParams(location.hash.slice(1));
    const st = Object.assign({}, DEFAULTS);
    for (const k of Object.keys(DEFAULTS)) if (p.has(k)) st[k] = p.get(k);
    return st;
  }
  let state = readState();
  function setState(changes, keepPage) {
    Object.assign(state, changes);
    if (!keepPage) state.page = '1';
    const p = new URLSearchParams();
    for (const k of Object.keys(DEFAULTS)) if (state[k] !== DEFAULTS[k]) p.set(k, state[k]);
    const h = p.toString();
    history.replaceState(null, '', h ? '#' + h : location.pathname + location.search);
    render();
  }
  window.addEventListener('hashchange', () => { state = readState(); syncControls(); render(); });

  // ---- filter and sort ----
  const SORTS = {
    input: (a, b) => a.n - b.n,
    score: (a, b) => (a._min < 0) - (b._min < 0) || a._min - b._min || a.n - b.n,
    'score-desc': (a, b) => b._min - a._min || a.n - b.n,
    boxes: (a, b) => b._nb - a._nb || a.n - b.n,
    'boxes-asc': (a, b) => a._nb - b._nb || a.n - b.n,
    eval: (a, b) => a._acc - b._acc || (a.ev && b.ev ? a.ev[2] - b.ev[2] : 0) || a.n - b.n,
  };
  let cacheKey = null, cached = [];
  function selected() {
    const key = [state.status, state.kind, state.flag, state.nobox, state.nospan, state.below, state.q, state.sort].join('\u0001');
    if (key === cacheKey) return cached;
    const q = state.q.trim().toLowerCase();
    const below = state.below === '' ? null : Number(state.below);
    const out = samples.filter((s) => {
      if (state.status === 'warnings') { if (!s.wa) return false; }
      else if (state.status !== 'all' && s.st !== state.status) return false;
      if (state.kind && s.ek !== state.kind) return false;
      if (state.flag && !(s.fl && s.fl.some((f) => f[0] === state.flag))) return false;
      if (state.nobox && !s._nobox) return false;
      if (state.nospan && !s._nospan) return false;
      if (below !== null && !(s._min >= 0 && s._min < below)) return false;
      if (q && !haystack(s).includes(q)) return false;
      return true;
    });
    out.sort(SORTS[state.sort] || SORTS.input);
    cacheKey = key;
    cached = out;
    return out;
  }

  // ---- summary ----
  function tile(label, value, cls) {
    const t = el('div', 'tile' + (cls ? ' ' + cls : ''));
    t.append(el('b', '', value), el('span', '', label));
    return t;
  }
  function histogram(title, counts, labels) {
    const wrap = el('div');
    wrap.append(el('p', 'hist-title', title));
    const h = el('div', 'hist'), l = el('div', 'hist-labels');
    const max = Math.max(1, ...counts);
    counts.forEach((c, i) => {
      const bar = el('div', 'bar');
      const fill = el('i');
      fill.style.height = (100 * c / max).toFixed(1) + '%';
      bar.title = labels[i] + ': ' + fmtInt(c);
      bar.append(el('em', '', c ? fmtShort(c) : ''), fill);
      h.append(bar);
      l.append(el('span', '', labels[i]));
    });
    wrap.append(h, l);
    return wrap;
  }
  function renderSummary() {
    $('title').textContent = summary.title || '';
    document.title = 'groundcap report \u00b7 ' + (summary.title || '');
    $('subtitle').textContent = (isRegion ? 'Region captioning' : 'Image grounding') + ' \u00b7 ' +
      fmtInt(stats.samples) + ' samples \u00b7 ' + (summary.source || '') + ' \u00b7 generated ' + (summary.generated || '');
    const box = $('summary');
    const by = stats.by_status || {};
    const counts = el('div', 'panel');
    counts.append(el('h2', '', 'Run'));
    const tiles = el('div', 'tiles');
    tiles.append(tile('samples', fmtInt(stats.samples)), tile('ok', fmtInt(by.ok), 'ok'),
                 tile('flagged', fmtInt(by.flagged), 'flagged'), tile('failed', fmtInt(by.failed), 'failed'),
                 tile('with warnings', fmtInt(stats.with_warnings)),
                 tile(isRegion ? 'regions' : 'expressions', fmtInt(stats.items)), tile('boxes', fmtInt(stats.boxes)));
    if (run && run.teacher) {
      const t = run.teacher;
      tiles.append(tile('requests', fmtInt(t.requests)), tile('retries', fmtInt(t.retries)),
                   tile('tokens in', fmtInt(t.tokens_in)), tile('tokens out', fmtInt(t.tokens_out)));
      if (t.tokens_thinking) tiles.append(tile('thinking tokens', fmtInt(t.tokens_thinking)));
    }
    if (run && run.elapsed_s !== undefined) tiles.append(tile('seconds', Number(run.elapsed_s).toFixed(1)));
    counts.append(tiles);
    const chips = el('div', 'chips');
    const filterChip = (cls, text, changes) => {
      const b = el('button', 'chip' + cls, text);
      b.type = 'button';
      b.addEventListener('click', () => { setState(changes); syncControls(); });
      chips.append(b);
    };
    for (const [k, n] of Object.entries(stats.flags || {})) filterChip(' warn', 'flag: ' + k + ' \u00d7 ' + fmtInt(n), { flag: k });
    if (!isRegion && stats.items_without_box) {
      filterChip('', 'expressions without box \u00d7 ' + fmtInt(stats.items_without_box), { nobox: '1' });
    }
    if (!isRegion && stats.spans_not_located) {
      filterChip('', 'spans not located \u00d7 ' + fmtInt(stats.spans_not_located), { nospan: '1' });
    }
    for (const [k, n] of Object.entries(stats.failed_by_kind || {})) {
      filterChip(' bad', 'failed: ' + k + ' \u00d7 ' + fmtInt(n), { status: 'failed', kind: k });
    }
    if (run && run.stopped) chips.append(el('span', 'chip bad', 'run stopped: ' + (run.stop_reason || '')));
    if (chips.childNodes.length) counts.append(chips);
    for (const n of summary.notes || []) counts.append(el('p', 'note', n));
    box.append(counts);

    const hists = el('div', 'panel');
    hists.append(el('h2', '', 'Distributions'));
    if (isRegion) {
      const perSample = new Array(11).fill(0);
      for (const s of samples) perSample[Math.min(10, s.it.length)]++;
      hists.append(histogram('regions per sample', perSample, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10+']));
    } else {
      hists.append(histogram('boxes per expression', stats.boxes_per_item || [], ['0', '1', '2', '3', '4', '5+']));
    }
    if ((stats.scores || []).some((c) => c > 0)) {
      hists.append(histogram(isRegion ? 'verification score' : 'box score', stats.scores,
                             ['0', '.1', '.2', '.3', '.4', '.5', '.6', '.7', '.8', '.9']));
    }
    box.append(hists);

    const ev = el('div', 'panel');
    if (summary.eval) {
      ev.append(el('h2', '', 'Against the ground truth'));
      const table = el('table', 'eval');
      for (const [k, v] of summary.eval.rows) {
        const tr = el('tr');
        tr.append(el('td', '', k), el('td', '', v));
        table.append(tr);
      }
      ev.append(table, el('p', 'note', 'Samples are listed worst first (sort: ground truth).'));
    } else {
      ev.append(el('h2', '', 'Ground truth'));
      ev.append(el('p', 'note', 'No ground truth given. With groundcap report --truth truth.jsonl the page shows ' +
                                'accuracy and recall and lists the worst samples first.'));
    }
    box.append(ev);
  }

  // ---- one sample ----
  function statusClass(st) { return st === 'ok' || st === 'failed' || st === 'flagged' ? st : 'other'; }
  function figure(s) {
    const f = el('div', 'frame');
    const W = s.w, H = s.h;
    if (!(W > 0 && H > 0)) { f.classList.add('noimg', 'nosize'); return f; }
    const k = Math.min(MAXW / W, MAXH / H);
    f.style.width = (W * k).toFixed(2) + 'px';
    f.style.height = (H * k).toFixed(2) + 'px';
    if (s.th) {
      const img = el('img');
      img.loading = 'lazy';
      img.decoding = 'async';
      img.alt = '';
      img.addEventListener('error', () => { img.remove(); f.classList.add('noimg'); });
      img.src = s.th;
      f.append(img);
    } else {
      f.classList.add('noimg');
    }
    const svg = document.createElementNS(SVGNS, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    svg.setAttribute('preserveAspectRatio', 'none');
    const labels = [];
    s.it.forEach((it, i) => {
      it.b.forEach((b) => {
        const r = document.createElementNS(SVGNS, 'rect');
        const x1 = Math.min(b[0], b[2]), y1 = Math.min(b[1], b[3]);
        r.setAttribute('x', x1);
        r.setAttribute('y', y1);
        r.setAttribute('width', Math.abs(b[2] - b[0]));
        r.setAttribute('height', Math.abs(b[3] - b[1]));
        r.setAttribute('class', 'box' + (b[5] === 0 ? ' rejected' : ''));
        r.setAttribute('data-bbox', b.slice(0, 4).join(','));
        r.setAttribute('data-k', i);
        r.setAttribute('tabindex', '0');
        r.style.setProperty('--c', color(i));
        const t = document.createElementNS(SVGNS, 'title');
        t.textContent = (it.lb ? it.lb + ' ' : '') + (it.t || '') + (b[4] >= 0 ? '  score ' + fmtScore(b[4]) : '') +
                        (b[5] === 0 ? '  (rejected by verification)' : '');
        r.append(t);
        svg.append(r);
        const lbl = el('span', 'lbl', it.lb || String(i + 1));
        lbl.dataset.k = i;
        lbl.style.setProperty('--c', color(i));
        lbl.style.left = (100 * x1 / W).toFixed(3) + '%';
        lbl.style.top = (100 * y1 / H).toFixed(3) + '%';
        if (y1 / H < 0.05) lbl.classList.add('inside');
        labels.push(lbl);
      });
    });
    f.append(svg, ...labels);
    return f;
  }
  function captionNode(s) {
    const p = el('p', 'caption');
    if (!s.cap) {
      if (isRegion) return null;
      p.append(el('span', 'none', 'no caption'));
      return p;
    }
    const cps = Array.from(s.cap);
    const spans = [];
    s.it.forEach((it, k) => {
      if (it.sp && it.sp[0] >= 0 && it.sp[1] <= cps.length && it.sp[0] < it.sp[1]) spans.push([it.sp[0], it.sp[1], k]);
    });
    const cuts = new Set([0, cps.length]);
    for (const [a, b] of spans) { cuts.add(a); cuts.add(b); }
    const pts = Array.from(cuts).sort((x, y) => x - y);
    for (let i = 0; i + 1 < pts.length; i++) {
      const a = pts[i], b = pts[i + 1];
      const text = cps.slice(a, b).join('');
      const cover = spans.filter(([x, y]) => x <= a && b <= y).sort((u, v) => (u[1] - u[0]) - (v[1] - v[0]));
      if (!cover.length) { p.append(document.createTextNode(text)); continue; }
      const m = el('mark', 'span', text);
      m.dataset.k = cover.map((c) => c[2]).join(' ');
      m.tabIndex = 0;
      m.style.setProperty('--c', color(cover[0][2]));
      p.append(m);
    }
    return p;
  }
  function itemsNode(s) {
    const ol = el('ol', 'items');
    s.it.forEach((it, k) => {
      const li = el('li');
      li.dataset.k = k;
      li.tabIndex = 0;
      li.style.setProperty('--c', color(k));
      li.append(el('span', 'sw'));
      if (it.lb) li.append(el('span', 'lb', it.lb));
      if (it.t || !it.rc) li.append(el('span', 't', it.t || (isRegion ? '(no caption)' : '(empty expression)')));
      if (it.rc) li.append(el('span', 'rc', it.rc));
      if (it.ex) li.append(el('span', 'meta', 'expression: ' + it.ex));
      if (it.st) li.append(el('span', 'tag bad', it.st + (it.re ? ': ' + it.re : '')));
      if (it.nf) li.append(el('span', 'tag warn', 'span not located'));
      if (!it.b.length && !it.st && s.st !== 'failed') li.append(el('span', 'tag warn', 'no box'));
      if (it.b.length) {
        const scores = it.b.map((b) => fmtScore(b[4]) + (b[5] === 1 ? ' \u2713' : b[5] === 0 ? ' \u2717' : '')).join('  ');
        const any = it.b.some((b) => b[4] >= 0 || b[5] !== undefined);
        li.append(el('span', 'meta', (isRegion ? '' : it.b.length + (it.b.length === 1 ? ' box' : ' boxes')) +
                                     (any ? (isRegion ? 'verify ' : ' \u00b7 score ') + scores : '')));
      }
      ol.append(li);
    });
    return ol;
  }
  function card(s) {
    const a = el('article', 'card st-' + statusClass(s.st));
    a.setAttribute('data-sample', s.id);
    a.setAttribute('data-status', s.st);
    const head = el('header', 'card-head');
    head.append(el('span', 'idx', '#' + (s.n + 1)), el('span', 'sid', s.id || '(no sample id)'),
                el('span', 'badge ' + statusClass(s.st), s.st), el('span', 'path', s.img));
    const right = el('span', 'right');
    right.append(el('span', 'chip', fmtInt(s._nb) + (s._nb === 1 ? ' box' : ' boxes')));
    if (s._min >= 0) right.append(el('span', 'chip', (isRegion ? 'lowest verify ' : 'lowest score ') + fmtScore(s._min)));
    if (s.ev) {
      const txt = s.ev[1] + '/' + s.ev[0] + (isRegion ? ' regions right' : ' right') + (s.ev[2] >= 0 ? ' \u00b7 IoU ' + s.ev[2].toFixed(2) : '');
      right.append(el('span', 'chip' + (s.ev[1] < s.ev[0] ? ' bad' : ''), 'truth: ' + txt));
    }
    head.append(right);
    const body = el('div', 'card-body');
    const info = el('div', 'info');
    if (s.st === 'failed') {
      const e = el('div', 'error');
      e.append(el('b', '', s.ek || 'failed'), document.createTextNode(s.em || ''));
      info.append(e);
    }
    const cap = captionNode(s);
    if (cap) info.append(cap);
    if (s.inc) {
      const sub = el('p', 'sub');
      sub.append(el('b', '', 'input caption: '), document.createTextNode(s.inc));
      info.append(sub);
    }
    if (s.it.length) info.append(itemsNode(s));
    const notes = el('ul', 'notes');
    for (const f of s.fl || []) {
      const li = el('li', 'flag', f[0] + (f[3] ? ' (blocking)' : '') + (f[1] >= 0 ? ' \u00b7 item ' + (f[1] + 1) : '') + (f[2] ? ': ' + f[2] : ''));
      notes.append(li);
    }
    for (const w of s.wa || []) notes.append(el('li', '', w));
    if (notes.childNodes.length) info.append(notes);
    const links = el('div', 'links');
    for (const [label, url] of [['original image', s.src], ['marked image', s.mk]]) {
      if (!url) continue;
      const l = el('a', '', label);
      l.href = url;
      l.target = '_blank';
      l.rel = 'noopener';
      links.append(l);
    }
    links.append(el('span', 'meta', 'line ' + s.ln));
    info.append(links);
    body.append(figure(s), info);
    a.append(head, body);
    return a;
  }

  // ---- hover / focus links spans, rows and boxes ----
  let hot = null;
  function heat(target) {
    const src = target && target.closest ? target.closest('[data-k]') : null;
    const c = src ? src.closest('.card') : null;
    if (hot && (!c || hot.card !== c || hot.src !== src)) {
      hot.card.classList.remove('hot');
      for (const e of hot.card.querySelectorAll('.on')) e.classList.remove('on');
      hot = null;
    }
    if (!src || !c || hot) return;
    const ks = new Set(src.getAttribute('data-k').split(' '));
    c.classList.add('hot');
    for (const e of c.querySelectorAll('[data-k]')) {
      if (e.getAttribute('data-k').split(' ').some((k) => ks.has(k))) e.classList.add('on');
    }
    hot = { card: c, src };
  }
  const list = $('list');
  list.addEventListener('mouseover', (e) => heat(e.target));
  list.addEventListener('mouseleave', () => heat(null));
  list.addEventListener('focusin', (e) => heat(e.target));
  list.addEventListener('focusout', () => heat(null));

  // ---- controls ----
  const ctl = { status: $('f-status'), kind: $('f-kind'), nobox: $('f-nobox'), nospan: $('f-nospan'),
                belowOn: $('f-below-on'), below: $('f-below'), belowVal: $('f-below-val'), q: $('f-q'), sort: $('f-sort') };
  for (const k of Object.keys(stats.failed_by_kind || {})) ctl.kind.append(new Option(k, k));
  if (summary.eval) ctl.sort.append(new Option('ground truth, worst first', 'eval'));
  if (isRegion) for (const id of ['c-nobox', 'c-nospan']) $(id).classList.add('hidden');
  function syncControls() {
    ctl.status.value = state.status;
    if (state.kind && !Array.from(ctl.kind.options).some((o) => o.value === state.kind)) ctl.kind.append(new Option(state.kind, state.kind));
    ctl.kind.value = state.kind;
    ctl.nobox.checked = !!state.nobox;
    ctl.nospan.checked = !!state.nospan;
    ctl.belowOn.checked = state.below !== '';
    if (state.below !== '') ctl.below.value = state.below;
    ctl.belowVal.textContent = Number(ctl.below.value).toFixed(2);
    if (document.activeElement !== ctl.q) ctl.q.value = state.q;
    ctl.sort.value = state.sort;
  }
  ctl.status.addEventListener('change', () => setState({ status: ctl.status.value }));
  ctl.kind.addEventListener('change', () => setState({ kind: ctl.kind.value }));
  ctl.nobox.addEventListener('change', () => setState({ nobox: ctl.nobox.checked ? '1' : '' }));
  ctl.nospan.addEventListener('change', () => setState({ nospan: ctl.nospan.checked ? '1' : '' }));
  ctl.belowOn.addEventListener('change', () => setState({ below: ctl.belowOn.checked ? ctl.below.value : '' }));
  ctl.below.addEventListener('input', () => {
    ctl.belowVal.textContent = Number(ctl.below.value).toFixed(2);
    ctl.belowOn.checked = true;
    setState({ below: ctl.below.value });
  });
  let typing = 0;
  ctl.q.addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(() => setState({ q: ctl.q.value }), 160); });
  ctl.sort.addEventListener('change', () => setState({ sort: ctl.sort.value }));
  $('f-clear').addEventListener('click', () => {
    setState({ status: 'all', kind: '', flag: '', nobox: '', nospan: '', below: '', q: '' });
    syncControls();
  });
  $('prev').addEventListener('click', () => { setState({ page: String(Number(state.page) - 1) }, true); window.scrollTo(0, $('controls').offsetTop); });
  $('next').addEventListener('click', () => { setState({ page: String(Number(state.page) + 1) }, true); window.scrollTo(0, $('controls').offsetTop); });

  // Writes where each box was drawn, after layout, relative to the picture
  // (data-drawn on the rect, data-shown on the frame, CSS pixels), so that
  // the rendered geometry can be checked against data-bbox.
  function recordGeometry() {
    for (const f of list.querySelectorAll('.frame')) {
      const fr = f.getBoundingClientRect();
      f.setAttribute('data-shown', fr.width.toFixed(3) + ',' + fr.height.toFixed(3));
      for (const r of f.querySelectorAll('rect')) {
        const b = r.getBoundingClientRect();
        r.setAttribute('data-drawn', [b.left - fr.left, b.top - fr.top, b.right - fr.left, b.bottom - fr.top]
          .map((v) => v.toFixed(3)).join(','));
      }
    }
  }

  function render() {
    const sel = selected();
    const per = Math.max(1, Math.min(500, Number(state.per) || 25));
    const pages = Math.max(1, Math.ceil(sel.length / per));
    const page = Math.min(pages, Math.max(1, Number(state.page) || 1));
    const shown = sel.slice((page - 1) * per, page * per);
    heat(null);
    if (shown.length) list.replaceChildren(...shown.map(card));
    else list.replaceChildren(el('p', 'empty', 'No sample matches these filters.'));
    $('count').textContent = fmtInt(sel.length) + ' of ' + fmtInt(samples.length) + ' samples' +
      (state.flag ? ' \u00b7 flag ' + state.flag : '');
    $('pageinfo').textContent = 'page ' + page + ' of ' + pages + ' \u00b7 ' +
      (shown.length ? fmtInt((page - 1) * per + 1) + '\u2013' + fmtInt((page - 1) * per + shown.length) : '0');
    $('prev').disabled = page <= 1;
    $('next').disabled = page >= pages;
    $('pager').hidden = pages <= 1;
    recordGeometry();
    document.body.setAttribute('data-rendered', String(shown.length));
  }

  renderSummary();
  syncControls();
  render();
})();
)JS";
  return kScript;
}

}  // namespace groundcap
