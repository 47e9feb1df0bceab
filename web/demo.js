// The demo page: client-side semantic search with sentence-wasm.
// Loads an embedding model (and optionally a CrossEncoder reranker and a
// SparseEncoder) with a progress bar, embeds a text collection in the
// worker, and ranks it as the user types. Nothing leaves the page.
//
// URL parameters prefill the form: ?model=&cross=&sparse=&q=
// (model sources: an http(s) URL, a path on this server such as
// /tests/fixtures/st-mean/, or a Hub id org/name).
import * as sw from '../js/index.js';
import { simdSupported, relaxedSimdSupported } from '../js/wasm.js';
import { SAMPLE_TEXTS } from './sample.js';

const $ = (id) => document.getElementById(id);
const HUB_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]*\/[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const TOP_K = 10;
const DEBOUNCE_MS = 120;
/** Tried in order for the default model: the shipped model, then a test fixture. */
const DEFAULT_MODELS = ['../models/static-en/', '../tests/fixtures/st-mean/'];

const state = {
  st: null, ce: null, se: null, // loaded models
  texts: [], embeddings: [], // the collection and its embeddings
  loadGen: 0, // bumps on every Load, so a stale load never overwrites a newer one
  querySeq: 0, // bumps on every search, so a slow answer never overwrites a newer one
};

const setState = (s) => { document.body.dataset.state = s; };

/** A model source from what the user typed: URL, server path or Hub id. */
function toSource(input) {
  const s = input.trim();
  if (/^https?:\/\//i.test(s)) return s;
  if (s.startsWith('/') || s.startsWith('./') || s.startsWith('../')) return new URL(s, location.href).href;
  if (HUB_ID.test(s)) return s;
  return new URL(s, location.href).href;
}

function fmtBytes(n) {
  if (n === undefined || n === null) return '?';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function fmtMs(ms) {
  return ms < 10 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(0)} ms`;
}

function showError(err) {
  const box = $('error');
  box.hidden = false;
  box.textContent = err && err.code ? `${err.code}: ${err.message}` : String(err && err.message ? err.message : err);
  console.error(err);
}

function clearError() {
  $('error').hidden = true;
  $('error').textContent = '';
}

/** One progress bar over all files of one model (onProgress events). */
function progressTracker(label) {
  const files = new Map();
  const bar = $('progress');
  const text = $('progress-text');
  $('progress-box').hidden = false;
  bar.value = 0;
  text.textContent = `${label}: starting…`;
  return (e) => {
    files.set(e.file, { loaded: e.loaded ?? 0, total: e.total });
    let loaded = 0;
    let total = 0;
    let unknown = false;
    for (const f of files.values()) {
      loaded += f.loaded;
      if (f.total === undefined) unknown = true;
      else total += f.total;
    }
    if (unknown || total === 0) bar.removeAttribute('value');
    else bar.value = loaded / total;
    const file = e.status === 'done' ? `${e.file} ✓` : `${e.file} ${fmtBytes(e.loaded)} / ${fmtBytes(e.total)}`;
    text.textContent = `${label}: ${file} — ${fmtBytes(loaded)}${unknown ? '' : ` of ${fmtBytes(total)}`}, ${files.size} file${files.size === 1 ? '' : 's'}`;
  };
}

async function disposeModels() {
  const old = [state.st, state.ce, state.se].filter(Boolean);
  state.st = state.ce = state.se = null;
  state.embeddings = [];
  await Promise.all(old.map((m) => m.dispose().catch(() => {})));
}

async function loadModels(event) {
  event?.preventDefault();
  const gen = ++state.loadGen;
  clearError();
  $('load').disabled = true;
  $('query').disabled = true;
  $('results').replaceChildren();
  $('sparse-tokens').hidden = true;
  $('timing').textContent = '';
  setState('loading');
  await disposeModels();

  const cache = $('use-cache').checked;
  const wanted = [
    ['st', 'SentenceTransformer', $('model').value, 'embedding model'],
    ['ce', 'CrossEncoder', $('cross').value, 'reranker'],
    ['se', 'SparseEncoder', $('sparse').value, 'sparse model'],
  ];
  const info = [];
  const notes = [];
  const testModels = [];
  try {
    for (const [key, className, input, label] of wanted) {
      if (!input.trim()) continue;
      const Cls = sw[className];
      if (!Cls) {
        notes.push(`This build of sentence-wasm has no ${className}: the ${label} is skipped.`);
        continue;
      }
      const t0 = performance.now();
      const model = await Cls.load(toSource(input), { onProgress: progressTracker(label), cache });
      if (gen !== state.loadGen) { await model.dispose(); return; }
      state[key] = model;
      const ms = performance.now() - t0;
      const what = key === 'st' ? `${model.dimension} dims, ${model.similarityFnName} similarity`
        : key === 'ce' ? `${model.numLabels} label${model.numLabels === 1 ? '' : 's'}`
          : 'sparse vectors';
      info.push(`${label}: ${input.trim()} (${what}, ${fmtBytes(model.weightBytes)} of weights, loaded in ${fmtMs(ms)})`);
      if (/tests\/fixtures\//.test(input)) testModels.push(input.trim());
    }
    if (testModels.length) {
      notes.push(`${testModels.join(', ')}: tiny test model${testModels.length > 1 ? 's' : ''} with random weights. ` +
        'The whole pipeline runs, but the rankings mean nothing: give a real model, e.g. sentence-transformers/all-MiniLM-L6-v2.');
    }
    $('progress-text').textContent = 'all files loaded';
    $('progress').value = 1;
    $('model-info').textContent = info.join(' · ');
    $('note').hidden = notes.length === 0;
    $('note').textContent = notes.join(' ');
    rememberInUrl();
    await embedCorpus();
  } catch (err) {
    if (gen !== state.loadGen) return;
    showError(err);
    setState('error');
  } finally {
    if (gen === state.loadGen) $('load').disabled = false;
  }
}

async function embedCorpus() {
  if (!state.st) return;
  clearError();
  const texts = $('corpus').value.split('\n').map((s) => s.trim()).filter(Boolean);
  state.texts = texts;
  state.embeddings = [];
  $('query').disabled = true;
  if (texts.length === 0) {
    $('corpus-info').textContent = 'no texts: write one per line, or use the sample';
    setState('ready');
    return;
  }
  setState('embedding');
  $('corpus-info').textContent = `embedding ${texts.length} texts…`;
  $('embed').disabled = true;
  try {
    const t0 = performance.now();
    const embeddings = await state.st.encodeDocument(texts);
    const ms = performance.now() - t0;
    state.embeddings = embeddings;
    $('corpus-info').textContent = `${texts.length} texts embedded in ${fmtMs(ms)} (${fmtMs(ms / texts.length)} per text)`;
    $('query').disabled = false;
    setState('ready');
    if ($('query').value.trim()) await search($('query').value);
  } catch (err) {
    showError(err);
    setState('error');
  } finally {
    $('embed').disabled = false;
  }
}

/** Ranks the collection for `query`; reranks and shows sparse tokens when those models are loaded. */
async function search(query) {
  const seq = ++state.querySeq;
  const q = query.trim();
  const st = state.st;
  if (!st || state.embeddings.length === 0) return;
  if (!q) {
    $('results').replaceChildren();
    $('timing').textContent = '';
    $('sparse-tokens').hidden = true;
    return;
  }
  try {
    const t0 = performance.now();
    const qEmb = await st.encodeQuery(q);
    if (seq !== state.querySeq) return;
    // The model's own similarity function (cosine, dot, ...), as model.similarity() uses.
    const [hits] = sw.util.semanticSearch(qEmb, state.embeddings,
      { topK: Math.min(TOP_K, state.embeddings.length), scoreFunction: (a, b) => st.similarity(a, b) });
    const searchMs = performance.now() - t0;
    const timing = [`query: ${fmtMs(searchMs)} (embed + search over ${state.embeddings.length} texts)`];
    let rows = hits.map((h, rank) => ({ id: h.corpusId, score: h.score, rank }));

    if (state.ce) {
      const t1 = performance.now();
      const ranked = await state.ce.rank(q, rows.map((r) => state.texts[r.id]));
      if (seq !== state.querySeq) return;
      rows = ranked.map((r) => ({ ...rows[r.corpusId], rerank: r.score }));
      timing.push(`reranked the top ${hits.length}: ${fmtMs(performance.now() - t1)}`);
    }

    let tokens = null;
    if (state.se) {
      const t2 = performance.now();
      const vec = await state.se.encodeQuery(q);
      if (seq !== state.querySeq) return;
      tokens = state.se.decode(vec, { topK: 12 });
      timing.push(`sparse: ${fmtMs(performance.now() - t2)}`);
    }

    renderResults(rows);
    renderTokens(tokens);
    $('timing').textContent = timing.join(' · ');
    document.body.dataset.searched = q;
  } catch (err) {
    if (seq !== state.querySeq) return;
    showError(err);
  }
}

function renderResults(rows) {
  const list = rows.map((r, i) => {
    const li = document.createElement('li');
    li.dataset.score = String(r.score);
    const score = document.createElement('span');
    score.className = 'score';
    // Reranked: the reranker's score leads, the embedding similarity follows.
    score.textContent = (r.rerank ?? r.score).toFixed(4);
    li.append(score, document.createTextNode(` ${state.texts[r.id]}`));
    if (r.rerank !== undefined) {
      li.dataset.rerank = String(r.rerank);
      const sim = document.createElement('span');
      sim.className = 'rerank';
      sim.textContent = `embedding ${r.score.toFixed(4)}`;
      const moved = document.createElement('span');
      moved.className = 'moved';
      moved.textContent = r.rank === i ? '=' : r.rank > i ? `▲${r.rank - i}` : `▼${i - r.rank}`;
      moved.title = `rank ${r.rank + 1} by embedding similarity`;
      li.append(sim, moved);
    }
    return li;
  });
  $('results').replaceChildren(...list);
}

function renderTokens(tokens) {
  const box = $('sparse-tokens');
  if (!tokens) { box.hidden = true; return; }
  const label = document.createElement('span');
  label.className = 'label';
  label.textContent = 'sparse query tokens:';
  const chips = tokens.map(([tok, w]) => {
    const s = document.createElement('span');
    s.className = 'tok';
    s.textContent = `${tok ?? '?'} ${w.toFixed(2)}`;
    return s;
  });
  box.replaceChildren(label, ...chips);
  box.hidden = false;
}

function rememberInUrl() {
  const params = new URLSearchParams(location.search);
  for (const k of ['model', 'cross', 'sparse']) {
    const v = $(k).value.trim();
    if (v) params.set(k, v); else params.delete(k);
  }
  history.replaceState(null, '', `${location.pathname}?${params}`);
}

function showMode() {
  const simd = simdSupported();
  const parts = [
    `engine: WebAssembly SIMD128 <b>${simd ? 'yes' : 'no — this browser lacks it, sentence-wasm cannot run'}</b>`,
    `relaxed SIMD: <b>${relaxedSimdSupported() ? 'yes' : 'no'}</b> (${relaxedSimdSupported() ? 'the relaxed-SIMD build runs' : 'the plain SIMD128 build runs'})`,
    'threads: <b>no</b> (one worker per model)',
    `cross-origin isolated: <b>${globalThis.crossOriginIsolated ? 'yes' : 'no'}</b>`,
    `model cache: <b>${globalThis.caches ? 'Cache API' : 'unavailable (needs https: or localhost)'}</b>`,
  ];
  $('mode').innerHTML = parts.join(' · ');
  document.body.dataset.simd = String(simd);
}

async function defaultModel() {
  for (const p of DEFAULT_MODELS) {
    try {
      const res = await fetch(new URL('modules.json', new URL(p, location.href)), { method: 'HEAD', cache: 'no-store' });
      if (res.ok) return p;
    } catch { /* try the next */ }
  }
  return DEFAULT_MODELS[DEFAULT_MODELS.length - 1];
}

async function main() {
  showMode();
  const params = new URLSearchParams(location.search);
  $('model').value = params.get('model') ?? await defaultModel();
  $('cross').value = params.get('cross') ?? '';
  $('sparse').value = params.get('sparse') ?? '';
  $('query').value = params.get('q') ?? '';
  $('corpus').value = SAMPLE_TEXTS.join('\n');

  $('model-form').addEventListener('submit', loadModels);
  $('embed').addEventListener('click', () => embedCorpus());
  $('use-sample').addEventListener('click', () => { $('corpus').value = SAMPLE_TEXTS.join('\n'); embedCorpus(); });
  let timer = 0;
  $('query').addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => search($('query').value), DEBOUNCE_MS);
  });
  $('query').addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { clearTimeout(timer); search($('query').value); }
  });
  await loadModels();
}

main().catch((err) => { showError(err); setState('error'); });
