#!/usr/bin/env node
// sentence-wasm benchmark: the workloads W1-W5 of the transformers.js peer runner
// (shared/bench/peer/run_transformersjs.mjs, described in its README), run on sentence-wasm with the
// same model files, texts, order, batch sizes and JSON line format, so that the two line up.
//
//   node bench/run.mjs --workload W1|W2|W3|W4|W5|W6|accuracy|sanity|all|W1,W2,... [--threads 1]
//        [--dtype fp32|int8|q8] [--model-dir /tmp/peer-model] [--data-dir tests/data/bench] [--reps 1]
//        [--quick] [--lib js/index.js] [--wasm-build plain|relaxed|auto]
//
// One workload with --reps 1 runs in this process and prints one JSON line. "all" (W1, W2, W4, W5, W3,
// W6, W1-static, W2-static), a list, or --reps N runs each workload in a fresh process, rounds
// interleaved (rep 1 of every workload, then rep 2, ...), one JSON line per run with "rep".
// --dtype int8 (or q8, transformers.js's name; the same here) loads every model with that dtype; "all"
// then leaves out the static workloads (no Linear layers to quantize) and ends with "accuracy": min and
// mean cosine between the int8 and fp32 embeddings of every line of sentences.txt (not timed).
// A missing --model-dir is built first with bench/make_models.sh (bench/make_model.py).
//
// Method, as the peer: the model is loaded before timing; W1-W3 run one untimed warm-up batch; texts in
// file order, one encode() call per batch (so batches are the same as the peer's, padded to their
// longest member); token counts include [CLS]/[SEP] and exclude padding; wall, CPU (all threads of this
// process) and the cores other processes kept busy meanwhile (/proc/stat) are measured around the
// timed part.
// --wasm-build: the engine build every model is loaded with (its wasmBuild option). 'plain' (default:
// SIMD128, what the peer's default build compares with) or 'relaxed' (dist/sentence-wasm-relaxed.wasm,
// f32x4.relaxed_madd; node is re-run with --experimental-wasm-relaxed-simd where it needs that flag), or
// 'auto' (what the library picks here). Lines of a non-plain build carry "wasm_build", as the peer's do.
import { parseArgs } from 'node:util';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';
import { relaxedSimdSupported, NODE_RELAXED_FLAG } from '../tools/relax_simd.mjs';

const T0 = performance.now(); // W5: first_embedding_s counts from here, as the peer's runner does
const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const { values: opt } = parseArgs({
  options: {
    workload: { type: 'string', default: 'all' },
    threads: { type: 'string', default: '1' },
    dtype: { type: 'string', default: 'fp32' },
    'model-dir': { type: 'string', default: '/tmp/peer-model' },
    'data-dir': { type: 'string', default: path.join(ROOT, 'tests', 'data', 'bench') },
    reps: { type: 'string', default: '1' },
    quick: { type: 'boolean', default: false }, // smoke test: 1/8 of the W1-W4 items; numbers not comparable
    lib: { type: 'string', default: path.join(ROOT, 'js', 'index.js') }, // the library module to benchmark
    'wasm-build': { type: 'string', default: 'plain' }, // plain | relaxed | auto: the engine build (wasmBuild)
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help) {
  process.stdout.write(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 24)
    .map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n');
  process.exit(0);
}
const THREADS = Number(opt.threads);
const W = opt.workload;
const ALL = ['W1', 'W2', 'W4', 'W5', 'W3', 'W6', 'W1-static', 'W2-static'];
const QUANTIZED = ['int8', 'q8'].includes(opt.dtype);
// With int8, "all" skips the static model (it refuses int8) and adds the accuracy check.
const ALL_RUN = QUANTIZED ? [...ALL.filter((w) => !w.endsWith('-static')), 'accuracy'] : ALL;
// W1-static / W2-static: W1 and W2 on the shipped default model (models/static-en).
const STATIC_MODEL = path.join(ROOT, 'models', 'static-en');
const EXIT_UNAVAILABLE = 3; // a workload the library cannot run yet (W3 without CrossEncoder)
const MAXLEN = 256; // the model's max_seq_length; the peer sets the same on transformers.js
const MODEL_DIR = path.resolve(opt['model-dir']);
const DATA_DIR = path.resolve(opt['data-dir']);

if (!Number.isInteger(THREADS) || THREADS < 0) fail(`--threads must be a whole number >= 0, got ${opt.threads}`);
const WASM_BUILD = opt['wasm-build'];
if (!['plain', 'relaxed', 'auto'].includes(WASM_BUILD)) fail(`--wasm-build must be plain, relaxed or auto, got ${WASM_BUILD}`);
// Node flags for the processes that run the library: Node 20 accepts relaxed SIMD only with a flag.
const NODE_FLAGS = WASM_BUILD === 'relaxed' && !relaxedSimdSupported() ? [NODE_RELAXED_FLAG] : [];
if (NODE_FLAGS.length && !['all'].includes(W) && !W.includes(',') && Number(opt.reps) <= 1 && W !== 'W5') {
  // one workload in this process, which lacks the flag: run it again with it (W5 and the driver
  // pass the flag to the processes they start instead, so no timed process is a re-run)
  const r = spawnSync(process.execPath, [...NODE_FLAGS, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
if (!['W5-child'].includes(W)) ensureModels();

if (W === 'all' || W.includes(',') || Number(opt.reps) > 1) {
  driver(W === 'all' ? ALL_RUN : W.split(','));
} else if (W === 'W5') {
  coldStart();
} else {
  await main();
}

// ---------------------------------------------------------------- helpers
function fail(msg, code = 1) { process.stderr.write(`bench/run.mjs: ${msg}\n`); process.exit(code); }
function round(x, d = 3) { return Number(x.toFixed(d)); }
function emit(o) { process.stdout.write(JSON.stringify(o) + '\n'); }
function median(a) { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; }
function quantile(a, q) { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]; }
// Busy CPU seconds of the whole machine (all processes), from /proc/stat; null where unavailable.
function machineBusy() {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = f;
    return (user + nice + system + irq + softirq + (steal || 0)) / 100; // USER_HZ = 100 on Linux
  } catch { return null; }
}
// Start a measurement; stop() returns wall, own CPU and the cores other processes kept busy meanwhile.
function measure() {
  const c0 = process.cpuUsage(); const b0 = machineBusy(); const t0 = performance.now();
  return () => {
    const wall = (performance.now() - t0) / 1000; const c = process.cpuUsage(c0); const cpu = (c.user + c.system) / 1e6;
    const b1 = machineBusy();
    return { wall, cpu, others: b0 === null ? null : Math.max(0, (b1 - b0 - cpu) / wall) };
  };
}
function osThreads() {
  try { return Number(/Threads:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]); } catch { return null; }
}
function stats(m) {
  return { wall_s: round(m.wall, 4), cpu_s: round(m.cpu, 3), cpu_per_wall: round(m.cpu / m.wall, 2),
    others_busy_cores: m.others === null ? null : round(m.others, 2), os_threads: osThreads() };
}
function peakRssMb() { return round(process.resourceUsage().maxRSS / 1024, 1); }
// Which engine build ran: git commit of the checkout (+dirty) and a hash of the .wasm that runs, so that
// runs of different builds are not mixed up in one table.
function buildId() {
  let git = null;
  try {
    const g = (a) => spawnSync('git', a, { cwd: ROOT, encoding: 'utf8' });
    const h = g(['rev-parse', '--short', 'HEAD']);
    if (h.status === 0) git = h.stdout.trim() + (g(['diff', '--quiet', 'HEAD', '--', 'src', 'js']).status === 1 ? '+dirty' : '');
  } catch {}
  let wasm = null;
  const relaxed = WASM_BUILD === 'relaxed' || (WASM_BUILD === 'auto' && relaxedSimdSupported());
  const file = relaxed ? 'sentence-wasm-relaxed.wasm' : 'sentence-wasm.wasm';
  try { wasm = createHash('sha256').update(fs.readFileSync(path.join(ROOT, 'dist', file))).digest('hex').slice(0, 12); } catch {}
  return `${git ?? '?'} wasm:${wasm ?? '?'}`;
}
// "wasm_build" (the peer's field, only for a non-plain build): the build the model reports it runs on.
function wasmBuildOf(model, base) {
  const build = model.wasmBuild ?? 'plain';
  if (WASM_BUILD !== 'auto' && build !== WASM_BUILD) throw new Error(`asked for the ${WASM_BUILD} build, the model runs ${build}`);
  if (build !== 'plain') base.wasm_build = build;
}
function packageVersion() {
  try { return JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version; } catch { return null; }
}

// The test models: built by bench/make_models.sh when the folder is missing.
function ensureModels() {
  const have = (k) => fs.existsSync(path.join(MODEL_DIR, k, 'model.safetensors'));
  if (have('embed') && have('rerank')) return;
  process.stderr.write(`bench/run.mjs: no test models in ${MODEL_DIR}; building them with bench/make_models.sh\n`);
  const r = spawnSync('sh', [path.join(HERE, 'make_models.sh'), MODEL_DIR], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0 || !have('embed')) fail(`could not build the test models in ${MODEL_DIR} (see above)`);
}

// Workload texts from tests/data/bench, read exactly as the peer reads shared/data/bench (same files).
function loadData(dir) {
  const sf = path.join(dir, 'sentences.txt');
  const pf = path.join(dir, 'passages.jsonl');
  const qf = path.join(dir, 'queries.jsonl');
  if (!fs.existsSync(sf) || !fs.existsSync(pf)) fail(`no sentences.txt / passages.jsonl in ${dir} (--data-dir)`);
  const sentences = fs.readFileSync(sf, 'utf8').split('\n').map((s) => s.trim()).filter(Boolean);
  const rows = fs.readFileSync(pf, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  const passages = rows.map((r) => (typeof r === 'string' ? r : r.text ?? r.passage ?? r.body ?? r.contents));
  const query = fs.existsSync(qf) ? JSON.parse(fs.readFileSync(qf, 'utf8').split('\n')[0]).text : sentences[0];
  return { source: dir, sentences, passages, query };
}

async function importLib() {
  const file = path.resolve(opt.lib);
  if (!fs.existsSync(file)) fail(`library module ${file} not found (--lib)`);
  return import(pathToFileURL(file).href);
}

// ---------------------------------------------------------------- several workloads / reps: one process each
function driver(workloads) {
  for (const w of workloads) if (!ALL.includes(w) && w !== 'sanity' && w !== 'accuracy') fail(`unknown workload ${w}`);
  const reps = Number(opt.reps);
  const pass = ['--threads', opt.threads, '--dtype', opt.dtype, '--model-dir', MODEL_DIR, '--data-dir', DATA_DIR,
    '--lib', path.resolve(opt.lib), '--wasm-build', WASM_BUILD, ...(opt.quick ? ['--quick'] : [])];
  const skip = new Set();
  let failed = 0;
  for (let rep = 1; rep <= reps; rep++) {
    for (const w of workloads) {
      if (skip.has(w)) continue;
      const r = spawnSync(process.execPath, [...NODE_FLAGS, fileURLToPath(import.meta.url), '--workload', w, '--reps', '1', ...pass],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
      if (r.status === EXIT_UNAVAILABLE) { skip.add(w); continue; }
      const last = (r.stdout ?? '').trim().split('\n').pop();
      if (r.status !== 0 || !last) { failed++; process.stderr.write(`bench/run.mjs: FAILED ${w} rep ${rep}: exit ${r.status ?? r.signal}\n`); continue; }
      const line = JSON.parse(last);
      if (reps > 1) line.rep = rep;
      emit(line);
    }
  }
  process.exitCode = failed ? 1 : 0;
}

// ---------------------------------------------------------------- W5: whole-process cold start
function coldStart() {
  const argv = [...NODE_FLAGS, fileURLToPath(import.meta.url), '--workload', 'W5-child', '--threads', opt.threads, '--dtype', opt.dtype,
    '--model-dir', MODEL_DIR, '--data-dir', DATA_DIR, '--lib', path.resolve(opt.lib), '--wasm-build', WASM_BUILD];
  const stop = measure();
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.on('close', (code) => {
    const m = stop();
    if (code !== 0) process.exit(code ?? 1);
    const r = JSON.parse(out.trim().split('\n').pop());
    emit({ ...r, workload: 'W5', build: buildId(), value: round(m.wall, 4), unit: 's', n: 1, wall_s: round(m.wall, 4),
      first_embedding_s: r.value, others_busy_cores: m.others === null ? null : round(Math.max(0, m.others - r.cpu_s / m.wall), 2),
      note: 'spawn to exit of a node process that loads the model and embeds one sentence' });
  });
}

// ---------------------------------------------------------------- one workload in this process
async function main() {
  if (![...ALL, 'W5-child', 'sanity', 'accuracy'].includes(W)) fail(`unknown workload ${W}`);
  const lib = await importLib(); // W5-child: importing the library is part of the cold start
  const { SentenceTransformer, CrossEncoder } = lib;
  const data = loadData(DATA_DIR);
  const NQ = (n) => (opt.quick ? Math.ceil(n / 8) : n);
  const loadOpts = { ...(THREADS > 0 ? { threads: THREADS } : {}), dtype: opt.dtype, wasmBuild: WASM_BUILD };
  const base = { engine: 'sentence-wasm', version: packageVersion(), backend: lib.backend ?? 'wasm-simd128',
    threads: THREADS, dtype: opt.dtype, workload: W };
  if (opt.quick) base.quick = true;
  if (W !== 'W5-child') base.build = buildId(); // (W5: the parent adds it, outside the child's timing)

  if (W === 'W3') return rerank(CrossEncoder, SentenceTransformer, loadOpts, base, data, NQ);
  if (W === 'accuracy') return accuracy(SentenceTransformer, loadOpts, base, data);
  if (W === 'W6') return sparse(lib.SparseEncoder, loadOpts, base, data, NQ);

  if (typeof SentenceTransformer?.load !== 'function') fail(`${opt.lib} exports no SentenceTransformer.load`);
  const isStatic = W.endsWith('-static');
  if (isStatic && QUANTIZED) fail(`${W}: dtype ${opt.dtype} does not apply to a StaticEmbedding model`, EXIT_UNAVAILABLE);
  const model = await SentenceTransformer.load(isStatic ? STATIC_MODEL : path.join(MODEL_DIR, 'embed'), loadOpts);
  if (isStatic) base.model = 'models/static-en';
  if (typeof model.backend === 'string') base.backend = model.backend;
  wasmBuildOf(model, base);
  const embed = (texts) => model.encode(texts, { batchSize: Array.isArray(texts) ? texts.length : 1, normalizeEmbeddings: true });
  const counts = async (texts) => (await model.tokenize(texts)).inputIds.map((ids) => Math.min(MAXLEN, ids.length));
  const ntok = async (texts) => (await counts(texts)).reduce((a, b) => a + b, 0);
  const dim = model.dimension ?? 384;
  const check = (out, k) => {
    if (!Array.isArray(out) || out.length !== k || out.some((e) => e?.length !== dim)) throw new Error(`encode returned ${out?.length} results for ${k} texts`);
  };

  if (W === 'W5-child') {
    const out = await embed(data.sentences[0]);
    if (out?.length !== dim) throw new Error('bad output');
    const c = process.cpuUsage();
    emit({ ...base, value: round((performance.now() - T0) / 1000, 4), unit: 's', cpu_s: round((c.user + c.system) / 1e6, 3),
      peak_rss_mb: peakRssMb(), data: data.source });
    // exit as a user's script would: release the model (its worker threads) and let the process end
    await model.dispose?.();
    setTimeout(() => fail('W5: the process was still alive 10 s after dispose()', 2), 10000).unref();
    return;
  }

  if (W === 'W1' || W === 'W2' || W === 'W1-static' || W === 'W2-static') {
    const [texts, bs] = W.startsWith('W1') ? [data.sentences.slice(0, NQ(1000)), 32] : [data.passages.slice(0, NQ(256)), 16];
    if (texts.length < NQ(W.startsWith('W1') ? 1000 : 256)) throw new Error(`not enough ${W} texts: ${texts.length}`);
    const tokens = await ntok(texts);
    check(await embed(texts.slice(0, bs)), Math.min(bs, texts.length)); // warm-up: one batch
    const stop = measure();
    for (let i = 0; i < texts.length; i += bs) await embed(texts.slice(i, i + bs));
    const m = stop();
    const r = { ...base, n: texts.length, ...stats(m), batch: bs, tokens, mean_tokens: round(tokens / texts.length, 2), data: data.source };
    if (W.startsWith('W1')) emit({ ...r, value: round(texts.length / m.wall, 2), unit: 'sentences/s' });
    else emit({ ...r, value: round(tokens / m.wall, 1), unit: 'tokens/s', peak_rss_mb: peakRssMb() });
    await model.dispose?.();
    return;
  }

  if (W === 'W4') {
    const s = data.sentences[0];
    for (let i = 0; i < 10; i++) await embed(s); // warm-up
    const lat = [];
    const stop = measure();
    for (let i = 0; i < NQ(100); i++) { const a = performance.now(); await embed(s); lat.push(performance.now() - a); }
    const m = stop();
    emit({ ...base, value: round(median(lat), 3), unit: 'ms (p50)', p95_ms: round(quantile(lat, 0.95), 3),
      n: lat.length, ...stats(m), batch: 1, tokens: await ntok([s]), text: s, data: data.source });
    await model.dispose?.();
    return;
  }

  if (W === 'sanity') return sanity(model, embed, CrossEncoder, loadOpts, base);
}

// W6 (sentence-wasm only; the peer has no SPLADE pipeline): 256 passages,
// truncated at 256 tokens, through a SparseEncoder of the MiniLM-L6 shape with
// a 30,522-word MLM head (bench/make_splade_model.mjs), batch 16 -> passages/s.
async function sparse(SparseEncoder, loadOpts, base, data, NQ) {
  if (typeof SparseEncoder?.load !== 'function') fail(`${opt.lib} exports no SparseEncoder`, EXIT_UNAVAILABLE);
  const dir = path.join(MODEL_DIR, 'splade');
  if (!fs.existsSync(path.join(dir, 'model.safetensors'))) {
    const r = spawnSync(process.execPath, [path.join(HERE, 'make_splade_model.mjs'), MODEL_DIR], { stdio: 'inherit' });
    if (r.status !== 0) fail('W6: could not build the SPLADE model');
  }
  const se = await SparseEncoder.load(dir, loadOpts);
  wasmBuildOf(se, base);
  const texts = data.passages.slice(0, NQ(256));
  const bs = 16;
  const tokens = (await se.tokenize(texts)).inputIds.reduce((a, ids) => a + ids.length, 0);
  await se.encode(texts.slice(0, bs), { batchSize: bs }); // warm-up
  const stop = measure();
  for (let i = 0; i < texts.length; i += bs) await se.encode(texts.slice(i, i + bs), { batchSize: bs });
  const m = stop();
  emit({ ...base, value: round(texts.length / m.wall, 2), unit: 'passages/s', n: texts.length, ...stats(m), batch: bs,
    tokens, mean_tokens: round(tokens / texts.length, 2), tokens_per_s: round(tokens / m.wall, 1),
    peak_rss_mb: peakRssMb(), data: data.source });
  await se.dispose();
}

// accuracy (not timed): every line of sentences.txt embedded (mean pooling, normalised, as W1) with
// --dtype and with fp32; min and mean cosine between the two, and the 1st percentile. The claim of the
// README ("int8 keeps cosine >= 0.99 against fp32") is this line's value.
async function accuracy(SentenceTransformer, loadOpts, base, data) {
  const dir = path.join(MODEL_DIR, 'embed');
  const texts = data.sentences;
  const run = async (opts) => {
    const m = await SentenceTransformer.load(dir, opts);
    const out = await m.encode(texts, { batchSize: 32, normalizeEmbeddings: true });
    await m.dispose?.();
    return out;
  };
  const ref = await run({ ...loadOpts, dtype: 'fp32' });
  const got = await run(loadOpts);
  const cos = got.map((a, i) => {
    let d = 0;
    for (let k = 0; k < a.length; k++) d += a[k] * ref[i][k]; // both normalised
    return d;
  });
  const worst = cos.indexOf(Math.min(...cos));
  const meanCos = cos.reduce((a, b) => a + b, 0) / cos.length;
  process.stderr.write(`accuracy: ${opt.dtype} vs fp32 over ${texts.length} lines of sentences.txt: `
    + `min cosine ${cos[worst].toFixed(6)} (line ${worst + 1}), mean ${meanCos.toFixed(6)}\n`);
  emit({ ...base, value: Number(cos[worst].toFixed(6)), unit: 'min cosine vs fp32', mean_cosine: Number(meanCos.toFixed(6)),
    p1_cosine: Number(quantile(cos, 0.01).toFixed(6)), worst_line: worst + 1, n: texts.length, data: data.source });
}

// W3: cross-encoder on (query, passage) for passages 1-100, batch 32.
async function rerank(CrossEncoder, SentenceTransformer, loadOpts, base, data, NQ) {
  let ce;
  try {
    if (typeof CrossEncoder?.load !== 'function') throw new Error(`${opt.lib} exports no CrossEncoder`);
    // The peer truncates pairs at 256 tokens (it sets model_max_length to 256,
    // the W3 limit); the rerank model's own tokenizer_config says 512.
    ce = await CrossEncoder.load(path.join(MODEL_DIR, 'rerank'), { ...loadOpts, maxLength: MAXLEN });
  } catch (e) {
    process.stderr.write(`bench/run.mjs: W3 not available: ${e.message}\n`);
    process.exit(EXIT_UNAVAILABLE);
  }
  if (typeof ce.backend === 'string') base.backend = ce.backend;
  wasmBuildOf(ce, base);
  const passages = data.passages.slice(0, NQ(100));
  const bs = 32;
  const pairs = passages.map((p) => [data.query, p]);
  // tokens per pair ([CLS] q [SEP] p [SEP], at most 256): the cross-encoder's tokenizer when it has
  // tokenize(), else the embed model's (the same bert-base-uncased vocabulary) on query and passage
  let tokens;
  if (typeof ce.tokenize === 'function') {
    tokens = (await ce.tokenize(pairs)).inputIds.reduce((a, ids) => a + Math.min(MAXLEN, ids.length), 0);
  } else {
    const st = await SentenceTransformer.load(path.join(MODEL_DIR, 'embed'), loadOpts);
    const { inputIds } = await st.tokenize([data.query, ...passages]);
    tokens = inputIds.slice(1).reduce((a, ids) => a + Math.min(MAXLEN, inputIds[0].length + ids.length - 1), 0);
    await st.dispose?.();
  }
  const score = (ps) => ce.predict(ps, { batchSize: ps.length });
  await score(pairs.slice(0, bs)); // warm-up
  const stop = measure();
  const scores = [];
  for (let i = 0; i < pairs.length; i += bs) scores.push(...(await score(pairs.slice(i, i + bs))));
  const m = stop();
  if (scores.length !== pairs.length || scores.some((x) => typeof x !== 'number')) throw new Error('bad scores');
  emit({ ...base, value: round(passages.length / m.wall, 2), unit: 'pairs/s', n: passages.length, ...stats(m),
    batch: bs, tokens, mean_tokens: round(tokens / passages.length, 2), data: data.source });
  await ce.dispose?.();
}

// sanity: outputs vs the plain-torch reference written by make_model.py (the peer's "sanity" workload).
async function sanity(model, embed, CrossEncoder, loadOpts, base) {
  const refE = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'embed', 'reference.json'), 'utf8'));
  const texts = refE.texts;
  const out = await embed(texts);
  const cos = texts.map((_, i) => {
    const a = out[i]; const b = refE.sentence_embedding[i];
    let d = 0, na = 0, nb = 0;
    for (let k = 0; k < b.length; k++) { d += a[k] * b[k]; na += a[k] * a[k]; nb += b[k] * b[k]; }
    return d / Math.sqrt(na * nb);
  });
  const maxAbs = Math.max(...texts.map((_, i) => Math.max(...refE.sentence_embedding[i].map((x, k) => Math.abs(x - out[i][k])))));
  const { inputIds } = await model.tokenize(texts);
  const ids = texts.map((t, i) => JSON.stringify(Array.from(inputIds[i])) ===
    JSON.stringify(refE.input_ids[i].slice(0, refE.attention_mask[i].reduce((a, b) => a + b, 0))));
  const r = { ...base, one_minus_cosine_vs_torch: cos.map((c) => Number((1 - c).toPrecision(3))),
    max_abs_diff_vs_torch: Number(maxAbs.toPrecision(3)), token_ids_match: ids };
  await model.dispose?.();
  try {
    const refR = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'rerank', 'reference.json'), 'utf8'));
    const ce = await CrossEncoder.load(path.join(MODEL_DIR, 'rerank'), loadOpts);
    const logits = Array.from(await ce.predict(refR.texts));
    Object.assign(r, { ce_logits: logits.map((x) => round(x, 6)), ce_logits_torch: refR.logits.map((x) => round(x, 6)),
      ce_max_abs_diff: round(Math.max(...logits.map((x, i) => Math.abs(x - refR.logits[i]))), 7) });
    await ce.dispose?.();
  } catch (e) {
    r.ce = `not available: ${e.message}`;
  }
  emit(r);
}
