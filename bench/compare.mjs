#!/usr/bin/env node
// Side-by-side benchmark: sentence-wasm (bench/run.mjs) against transformers.js on onnxruntime-web's
// WASM backend (the peer runner, shared/bench/peer/run_transformersjs.mjs), same model files, texts,
// threads and dtype. Per workload the runs alternate (ours, peer, ours, peer, ...), each in a fresh
// process; every line is appended to --out; a run during which other processes kept busy cores it
// needed is left out of the medians (and re-run up to --retries times). Prints medians and ratios.
//
//   node bench/compare.mjs [--reps 3] [--workloads W1,W2,W4,W5,W3] [--threads 1] [--dtype fp32]
//        [--model-dir /tmp/peer-model] [--data-dir tests/data/bench] [--peer-dir /tmp/peer-harness]
//        [--out /tmp/sentence-wasm-bench.jsonl] [--quick] [--retries 2] [--max-others 0.5]
//        [--quiet-wait 0] [--summary [--session ISO-TIME]] [--setup-peer] [--wasm-build plain|relaxed|auto]
//
// --wasm-build picks sentence-wasm's engine build (the peer has one); --dtype q8 runs ours with
// int8 weights (q8 is our alias of int8) against the peer's q8 (its dynamically quantized ONNX).
//
// The peer needs its node_modules (@huggingface/transformers 4.3.1, onnxruntime-web; ~470 MB) in a
// writable copy of shared/bench/peer: --setup-peer makes one in --peer-dir (copy + npm ci).
import { parseArgs } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const { values: o } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    workloads: { type: 'string', default: 'W1,W2,W4,W5,W3' },
    threads: { type: 'string', default: '1' },
    dtype: { type: 'string', default: 'fp32' },
    'model-dir': { type: 'string', default: '/tmp/peer-model' },
    'data-dir': { type: 'string', default: path.join(ROOT, 'tests', 'data', 'bench') },
    'peer-dir': { type: 'string', default: '/tmp/peer-harness' },
    'peer-src': { type: 'string', default: path.join(ROOT, '..', 'shared', 'bench', 'peer') }, // for --setup-peer
    out: { type: 'string', default: '/tmp/sentence-wasm-bench.jsonl' }, // a file, or a folder to hold sentence-wasm-bench.jsonl
    quick: { type: 'boolean', default: false },
    retries: { type: 'string', default: '2' }, // re-runs of a run left out because of other processes
    'max-others': { type: 'string', default: '0.5' },
    'quiet-wait': { type: 'string', default: '0' }, // before each run wait up to S s for the machine to calm down
    'quiet-max': { type: 'string', default: '0.3' },
    summary: { type: 'boolean', default: false }, // only print the medians of the last session in --out
    session: { type: 'string' }, // with --summary: which session (its ISO time stamp, as printed)
    'setup-peer': { type: 'boolean', default: false },
    lib: { type: 'string' }, // passed to bench/run.mjs
    'wasm-build': { type: 'string', default: 'plain' }, // ours only: plain | relaxed | auto (bench/run.mjs)
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (o.help) {
  process.stdout.write(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1)
    .filter((l, k, all) => all.slice(0, k + 1).every((x) => x.startsWith('//'))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n');
  process.exit(0);
}
let OUT = path.resolve(o.out);
if (fs.existsSync(OUT) && fs.statSync(OUT).isDirectory()) OUT = path.join(OUT, 'sentence-wasm-bench.jsonl');
const PEER = path.resolve(o['peer-dir']);
const PEER_RUNNER = path.join(PEER, 'run_transformersjs.mjs');
const NCPU = os.cpus().length;

// ---------------------------------------------------------------- the peer harness
function peerMissing() {
  if (!fs.existsSync(PEER_RUNNER)) return `${PEER_RUNNER} not found`;
  for (const p of ['@huggingface/transformers', 'onnxruntime-web']) {
    if (!fs.existsSync(path.join(PEER, 'node_modules', p, 'package.json'))) return `${p} not installed in ${PEER}/node_modules`;
  }
  return null;
}
if (o['setup-peer'] && peerMissing()) {
  const src = path.resolve(o['peer-src']);
  if (!fs.existsSync(path.join(src, 'run_transformersjs.mjs'))) die(`no peer runner in ${src} (--peer-src)`);
  console.error(`copying ${src} to ${PEER} and running npm ci there (~470 MB)`);
  fs.cpSync(src, PEER, { recursive: true, filter: (s) => !s.includes(`${path.sep}node_modules`) });
  for (const f of walk(PEER)) fs.chmodSync(f, fs.statSync(f).mode | 0o200); // the source may be read-only
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: PEER, stdio: 'inherit' });
  if (r.status !== 0) die('npm ci failed in ' + PEER);
}
if (!o.summary && peerMissing()) {
  die(`the transformers.js peer harness is not set up: ${peerMissing()}.
Set it up once (needs the npm registry, ~470 MB):
  node bench/compare.mjs --setup-peer                     # copies ${path.resolve(o['peer-src'])} to ${PEER}, npm ci
or by hand:
  cp -r ../shared/bench/peer ${PEER} && chmod -R u+w ${PEER} && (cd ${PEER} && npm ci)
or point --peer-dir at a folder holding run_transformersjs.mjs and its node_modules.`);
}

function die(msg) { console.error(`bench/compare.mjs: ${msg}`); process.exit(1); }
function* walk(d) { yield d; if (fs.statSync(d).isDirectory()) for (const e of fs.readdirSync(d)) yield* walk(path.join(d, e)); }

// ---------------------------------------------------------------- runs
const busy = () => {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return (f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] || 0)) / 100;
};
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
function waitQuiet() {
  if (Number(o['quiet-wait']) <= 0) return {};
  const t0 = Date.now();
  for (;;) {
    const b0 = busy(); sleep(2000); const load = (busy() - b0) / 2;
    if (load < Number(o['quiet-max']) || Date.now() - t0 > Number(o['quiet-wait']) * 1000) {
      return { pre_busy_cores: Number(load.toFixed(2)), waited_s: Math.round((Date.now() - t0) / 1000) };
    }
    sleep(3000);
  }
}
// the cores a run needs: its threads (W5: one, model loading), the rest may be busy, plus --max-others
const spare = (r) => NCPU - (r.workload === 'W5' ? 1 : Number(r.threads) || NCPU) + Number(o['max-others']);
const contended = (r) => (r.others_busy_cores ?? 0) > spare(r);

const common = ['--threads', o.threads, '--dtype', o.dtype, '--model-dir', path.resolve(o['model-dir']),
  '--data-dir', path.resolve(o['data-dir']), ...(o.quick ? ['--quick'] : [])];
const ENGINES = {
  ours: (w) => [path.join(HERE, 'run.mjs'), '--workload', w, ...common, '--wasm-build', o['wasm-build'],
    ...(o.lib ? ['--lib', o.lib] : [])],
  peer: (w) => [PEER_RUNNER, '--modules', PEER, '--backend', 'wasm', '--workload', w, ...common],
};
const EXIT_UNAVAILABLE = 3; // bench/run.mjs: workload not available in the library (W3 without CrossEncoder)

function runOnce(engine, w) {
  const q = waitQuiet();
  const r = spawnSync(process.execPath, ENGINES[engine](w), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
  if (engine === 'ours' && r.status === EXIT_UNAVAILABLE) return 'unavailable';
  const last = (r.stdout ?? '').trim().split('\n').pop();
  if (r.status !== 0 || !last) { console.error(`FAILED ${engine} ${w}: exit ${r.status ?? r.signal}`); return null; }
  return { ...JSON.parse(last), ...q };
}

const session = new Date().toISOString();
if (!o.summary) {
  if (!fs.existsSync(path.join(path.resolve(o['model-dir']), 'embed', 'model.safetensors'))) {
    const r = spawnSync('sh', [path.join(HERE, 'make_models.sh'), path.resolve(o['model-dir'])], { stdio: 'inherit' });
    if (r.status !== 0) die('could not build the test models');
  }
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  console.error(`session ${session}: threads ${o.threads}, ${o.dtype}, sentence-wasm build ${o['wasm-build']}, ${o.reps} reps, appending to ${OUT}`);
  for (const w of o.workloads.split(',')) {
    let skip = false;
    for (let rep = 1; rep <= Number(o.reps) && !skip; rep++) {
      for (const engine of ['ours', 'peer']) {
        for (let attempt = 0; attempt <= Number(o.retries); attempt++) {
          const line = runOnce(engine, w);
          if (line === 'unavailable') { console.error(`${w}: not available in sentence-wasm yet, skipped (peer too)`); skip = true; break; }
          if (!line) break;
          Object.assign(line, { rep, compare_session: session, ...(attempt ? { attempt } : {}) });
          const c = contended(line);
          if (c) line.left_out = 'other processes kept busy cores this run needed';
          fs.appendFileSync(OUT, JSON.stringify(line) + '\n');
          console.error(`${w} rep ${rep} ${engine === 'ours' ? 'sentence-wasm  ' : 'transformers.js'}: ${line.value} ${line.unit}`
            + ` (others busy ${line.others_busy_cores}${c ? ', LEFT OUT' : ''})`);
          if (!c) break;
        }
        if (skip) break;
      }
    }
  }
}

// ---------------------------------------------------------------- medians and ratios
const all = fs.existsSync(OUT) ? fs.readFileSync(OUT, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
const last = o.summary ? o.session ?? all.map((r) => r.compare_session).filter(Boolean).pop() : session;
const mine = all.filter((r) => r.compare_session === last);
if (!mine.length) die(`no runs of a compare session in ${OUT}`);
const kept = mine.filter((r) => !contended(r));
const eng = (r) => (r.engine === 'sentence-wasm' ? 'ours' : 'peer');
const med = (a) => {
  a = a.filter((x) => typeof x === 'number');
  if (!a.length) return null;
  const s = [...a].sort((x, y) => x - y); const m = s.length >> 1;
  return Number((s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2).toPrecision(4));
};
// workload -> [metric label, field, unit, better]
// (field may be a function of the line: "per CPU-second" divides the work by the process's CPU time,
// which a machine shared with other jobs disturbs less than wall time)
const perCpu = (r) => (r.cpu_s > 0 ? (r.workload === 'W2' ? r.tokens : r.n) / r.cpu_s : null);
const METRICS = {
  W1: [['throughput', 'value', 'sentences/s', 'higher'], ['per CPU-second', perCpu, 'sentences/cpu-s', 'higher']],
  W2: [['throughput', 'value', 'tokens/s', 'higher'], ['per CPU-second', perCpu, 'tokens/cpu-s', 'higher'],
    ['peak RSS', 'peak_rss_mb', 'MB', 'lower']],
  W3: [['throughput', 'value', 'pairs/s', 'higher'], ['per CPU-second', perCpu, 'pairs/cpu-s', 'higher']],
  W4: [['latency p50', 'value', 'ms', 'lower'], ['latency p95', 'p95_ms', 'ms', 'lower']],
  W5: [['spawn to exit', 'value', 's', 'lower'], ['first embedding*', 'first_embedding_s', 's', 'lower'],
    ['peak RSS', 'peak_rss_mb', 'MB', 'lower']],
};
const sample = mine[0];
console.log(`\nsentence-wasm vs transformers.js${mine.find((r) => eng(r) === 'peer') ? ' ' + mine.find((r) => eng(r) === 'peer').version : ''} (onnxruntime-web WASM), `
  + `threads ${sample.threads}, ${sample.dtype}, sentence-wasm build ${mine.find((r) => eng(r) === 'ours')?.wasm_build ?? 'plain'}`
  + `${sample.quick ? ', QUICK (not comparable)' : ''}; session ${last}; ${OUT}`);
if (kept.length < mine.length) console.log(`(${mine.length - kept.length} of ${mine.length} runs left out: other processes kept busy cores they needed)`);
const warnings = [];
const builds = [...new Set(mine.filter((r) => eng(r) === 'ours').map((r) => r.build))];
const wasms = [...new Set(builds.map((b) => /wasm:(\S+)/.exec(b ?? '')?.[1]))];
if (wasms.length > 1) {
  warnings.push(`the sentence-wasm engine (.wasm) changed during the session: ${builds.join(', ')}; per run: `
    + mine.filter((r) => eng(r) === 'ours').map((r) => `${r.workload}#${r.rep} ${r.build}`).join('; '));
} else if (builds.length) console.log(`\nsentence-wasm build ${builds.join(', ')}`);
console.log('\n| workload | metric | unit | sentence-wasm | transformers.js | ratio ours/peer | better | faster/smaller | runs (ours/peer) |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const w of ['W1', 'W2', 'W3', 'W4', 'W5']) {
  const rs = { ours: kept.filter((r) => r.workload === w && eng(r) === 'ours'), peer: kept.filter((r) => r.workload === w && eng(r) === 'peer') };
  if (!rs.ours.length && !rs.peer.length) continue;
  for (const [label, field, unit, better] of METRICS[w]) {
    const get = (r) => (typeof field === 'function' ? field(r) : r[field]);
    const a = med(rs.ours.map(get)); const b = med(rs.peer.map(get));
    const ratio = a !== null && b !== null && b !== 0 ? Number((a / b).toPrecision(3)) : null;
    const who = ratio === null ? '' : (better === 'higher' ? ratio >= 1 : ratio <= 1) ? 'sentence-wasm' : 'transformers.js';
    const x = ratio === null ? '' : ` ${Number((ratio >= 1 ? ratio : 1 / ratio).toPrecision(3))}x`;
    console.log(`| ${w} | ${label} | ${unit} | ${a ?? '-'} | ${b ?? '-'} | ${ratio ?? '-'} | ${better} is better | ${who}${ratio === null ? '' : ' by' + x} | ${rs.ours.length}/${rs.peer.length} |`);
  }
  const mt = (e) => rs[e][0]?.mean_tokens;
  if (mt('ours') !== undefined && mt('peer') !== undefined && mt('ours') !== mt('peer')) {
    warnings.push(`${w}: mean tokens differ (sentence-wasm ${mt('ours')}, transformers.js ${mt('peer')}): the engines did not see the same token sequences`);
  }
  const cpw = (e) => med(rs[e].map((r) => r.cpu_per_wall));
  if (w !== 'W5' && rs.ours.length && rs.peer.length) warnings.push(`${w}: cpu/wall sentence-wasm ${cpw('ours')}, transformers.js ${cpw('peer')}`);
}
console.log('\n* W5 first embedding is timed from the start of the runner module (both runners), so it excludes Node\'s own start-up.');
for (const s of warnings) console.log(s);
