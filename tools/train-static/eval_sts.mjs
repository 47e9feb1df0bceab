// STS Benchmark evaluation of a model folder through sentence-wasm itself (not the Python code).
//
//   node tools/train-static/eval_sts.mjs [--split dev|test|both] [--model models/static-en]
//
// Encodes both sides of sts-<split>.csv with SentenceTransformer.encode (batchSize 256),
// takes the cosine of each pair and prints one JSON line per split:
//   {"split":"test","spearman":0.70123,"pairs":1379,"model":"models/static-en","seconds":1.2}
// Spearman uses average ranks for ties. Paths are resolved from the current directory
// (run it from the repository root).
import fs from 'node:fs';
import path from 'node:path';
import { SentenceTransformer } from '../../js/index.js';

function parseArgs(argv) {
  const out = { split: 'test', model: 'models/static-en', data: 'tests/data/stsbenchmark' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--split') out.split = argv[++i];
    else if (a === '--model') out.model = argv[++i];
    else if (a === '--data') out.data = argv[++i];
    else if (a === '--help' || a === '-h') {
      console.log('usage: node tools/train-static/eval_sts.mjs [--split dev|test|both] [--model DIR] [--data DIR]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!['dev', 'test', 'both'].includes(out.split)) throw new Error(`--split must be dev, test or both`);
  return out;
}

/** STS Benchmark csv: genre, file, year, id, score, sentence1, sentence2 [, ...], tab-separated. */
function loadSts(file) {
  const s1 = [], s2 = [], gold = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const t = line.replace(/\r$/, '').split('\t');
    if (t.length < 7) continue;
    gold.push(Number(t[4]));
    s1.push(t[5]);
    s2.push(t[6]);
  }
  return { s1, s2, gold };
}

/** Ranks 1..n, ties get the average of the ranks they span. */
function rankdata(x) {
  const order = x.map((v, i) => i).sort((a, b) => x[a] - x[b] || a - b);
  const ranks = new Float64Array(x.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && x[order[j + 1]] === x[order[i]]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]] = r;
    i = j + 1;
  }
  return ranks;
}

function pearson(a, b) {
  const n = a.length;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) { ma += a[i]; mb += b[i]; }
  ma /= n; mb /= n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma, db = b[i] - mb;
    sab += da * db; saa += da * da; sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}

function spearman(a, b) {
  return pearson(Array.from(rankdata(a)), Array.from(rankdata(b)));
}

function cosine(u, v) {
  let d = 0, nu = 0, nv = 0;
  for (let i = 0; i < u.length; i++) { d += u[i] * v[i]; nu += u[i] * u[i]; nv += v[i] * v[i]; }
  const den = Math.sqrt(nu) * Math.sqrt(nv);
  return den > 0 ? d / den : 0;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const model = await SentenceTransformer.load(path.resolve(args.model));
  try {
    const splits = args.split === 'both' ? ['dev', 'test'] : [args.split];
    for (const split of splits) {
      const t0 = performance.now();
      const { s1, s2, gold } = loadSts(path.resolve(args.data, `sts-${split}.csv`));
      const e1 = await model.encode(s1, { batchSize: 256 });
      const e2 = await model.encode(s2, { batchSize: 256 });
      const cos = e1.map((u, i) => cosine(u, e2[i]));
      const rho = spearman(cos, gold);
      console.log(JSON.stringify({
        split, spearman: Math.round(rho * 1e5) / 1e5, pairs: gold.length, dim: e1[0].length,
        model: args.model, seconds: Math.round((performance.now() - t0) / 10) / 100,
      }));
    }
  } finally {
    await model.dispose();
  }
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : String(err));
  process.exit(1);
});
