#!/usr/bin/env node
// sentence-wasm command line: embeddings, semantic search, reranking and
// sparse vectors from the shell, one JSON object per line on stdout.
//
//   sentence-wasm encode MODEL < texts.txt
//   sentence-wasm search MODEL --corpus docs.txt "query" ["query" ...]
//   sentence-wasm rerank MODEL "query" < docs.txt
//   sentence-wasm sparse MODEL < texts.txt
//   sentence-wasm COMMAND --help
//
// MODEL is a local folder, the URL of a model folder, or a Hub id org/name.
// Input texts are lines (UTF-8, blank lines skipped). On bad input the
// program prints one line to stderr and exits non-zero (2: usage, 1: failure).
import { createInterface } from 'node:readline';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

const PROG = 'sentence-wasm';

const COMMON_OPTIONS = {
  revision: { type: 'string' },
  cache: { type: 'string' },
  'hub-url': { type: 'string' },
  'batch-size': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};
const COMMON_HELP = `
model options:
  --revision REV      Hub branch, tag or commit (default: main)
  --cache DIR         keep downloaded model files in DIR; later runs make no request
  --hub-url URL       Hub host (default: https://huggingface.co)
  --batch-size N      texts per forward pass (default: 32)
  -h, --help          this help

MODEL is a local folder, the URL of a model folder, or a Hub id org/name.`;

const COMMANDS = {
  encode: {
    usage: 'encode MODEL [options] < texts',
    about: 'Embeds each line of stdin with a SentenceTransformer; prints {"text", "embedding"} per line, in order.',
    options: {
      normalize: { type: 'boolean' },
      'prompt-name': { type: 'string' },
      prompt: { type: 'string' },
      query: { type: 'boolean' },
      document: { type: 'boolean' },
      'truncate-dim': { type: 'string' },
    },
    help: `
  --normalize         L2-normalise the embeddings
  --query             use the model's query prompt (encodeQuery)
  --document          use the model's document prompt (encodeDocument)
  --prompt-name NAME  one of the model's named prompts
  --prompt TEXT       a prompt prepended to every text
  --truncate-dim N    keep the first N dimensions`,
    positionals: 1,
    run: runEncode,
  },
  search: {
    usage: 'search MODEL --corpus FILE [--top-k N] QUERY [QUERY ...]',
    about: 'Semantic search: embeds the lines of FILE and each QUERY with a SentenceTransformer; prints\n' +
      '{"query", "results": [{"corpusId", "score", "text"}]} per query, best first.',
    options: {
      corpus: { type: 'string' },
      'top-k': { type: 'string' },
    },
    help: `
  --corpus FILE       the texts to search, one per line (required)
  --top-k N           results per query (default: 5)`,
    positionals: 'many',
    run: runSearch,
  },
  rerank: {
    usage: 'rerank MODEL QUERY [--top-k N] < docs',
    about: 'Scores each line of stdin against QUERY with a CrossEncoder; prints {"corpusId", "score", "text"}\nper document, best first.',
    options: {
      'top-k': { type: 'string' },
    },
    help: `
  --top-k N           print only the N best documents`,
    positionals: 2,
    run: runRerank,
  },
  sparse: {
    usage: 'sparse MODEL [options] < texts',
    about: 'Sparse (SPLADE) vectors with a SparseEncoder: prints {"text", "dim", "indices", "values", "tokens"}\nper line of stdin, in order; tokens are the top weighted vocabulary entries.',
    options: {
      tokens: { type: 'string' },
      'max-active-dims': { type: 'string' },
      query: { type: 'boolean' },
      document: { type: 'boolean' },
    },
    help: `
  --tokens N          decoded top tokens per text (default: 10; 0: none)
  --max-active-dims N keep only the N largest weights
  --query, --document use the model's query / document prompt`,
    positionals: 1,
    run: runSparse,
  },
};

const MAIN_HELP = `usage: ${PROG} COMMAND MODEL [options]

commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)}${c.about.split('\n')[0]}`).join('\n')}

Run '${PROG} COMMAND --help' for a command's options. Output is JSON, one object per line.`;

class UsageError extends Error {}

function usage(message) { throw new UsageError(message); }

function oneLine(s) { return String(s).replace(/\s*\n\s*/g, ' ').trim(); }

function positiveInt(value, name, { allowZero = false } = {}) {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || (!allowZero && n < 1)) {
    usage(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${JSON.stringify(value)}`);
  }
  return n;
}

function loadOptions(values) {
  const opts = {};
  if (values.revision !== undefined) opts.revision = values.revision;
  if (values.cache !== undefined) opts.cache = values.cache;
  if (values['hub-url'] !== undefined) opts.hubUrl = values['hub-url'];
  return opts;
}

/** The library, imported only when a command runs; a class it lacks is a clear error. */
async function modelClass(name) {
  const lib = await import('../js/index.js');
  if (typeof lib[name] !== 'function') {
    throw new Error(`this version of sentence-wasm has no ${name}`);
  }
  return lib;
}

/** Lines of stdin, blank ones skipped, in chunks of `size` (keeps memory flat on long inputs). */
function requireStdin() {
  if (process.stdin.isTTY) usage('expects texts on stdin, one per line (e.g. < texts.txt)');
}

async function* stdinChunks(size) {
  requireStdin();
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  let chunk = [];
  for await (const line of rl) {
    if (line.trim() === '') continue;
    chunk.push(line);
    if (chunk.length >= size) { yield chunk; chunk = []; }
  }
  if (chunk.length) yield chunk;
}

async function readLines(file) {
  let text;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
  return text.split(/\r?\n/).filter((l) => l.trim() !== '');
}

/** Writes one JSON line, waiting when stdout is full. */
function emit(obj) {
  const ok = process.stdout.write(`${JSON.stringify(obj)}\n`);
  return ok ? undefined : new Promise((resolve) => process.stdout.once('drain', resolve));
}

async function withModel(model, fn) {
  try {
    return await fn(model);
  } finally {
    await model.dispose();
  }
}

async function runEncode([source], values) {
  requireStdin();
  if (values.query && values.document) usage('--query and --document exclude each other');
  const encodeOpts = {};
  const batchSize = positiveInt(values['batch-size'], 'batch-size');
  if (batchSize) encodeOpts.batchSize = batchSize;
  if (values.normalize) encodeOpts.normalizeEmbeddings = true;
  if (values['prompt-name'] !== undefined) encodeOpts.promptName = values['prompt-name'];
  if (values.prompt !== undefined) encodeOpts.prompt = values.prompt;
  const truncateDim = positiveInt(values['truncate-dim'], 'truncate-dim');
  if (truncateDim) encodeOpts.truncateDim = truncateDim;
  const { SentenceTransformer } = await modelClass('SentenceTransformer');
  const model = await SentenceTransformer.load(source, loadOptions(values));
  await withModel(model, async (m) => {
    const method = values.query ? 'encodeQuery' : values.document ? 'encodeDocument' : 'encode';
    for await (const texts of stdinChunks(Math.max(256, (batchSize ?? 32) * 4))) {
      const embeddings = await m[method](texts, encodeOpts);
      for (let i = 0; i < texts.length; i++) await emit({ text: texts[i], embedding: Array.from(embeddings[i]) });
    }
  });
}

async function runSearch([source, ...queries], values) {
  if (!values.corpus) usage('search needs --corpus FILE (the texts to search, one per line)');
  if (queries.length === 0) usage('search needs at least one QUERY');
  const topK = positiveInt(values['top-k'], 'top-k') ?? 5;
  const batchSize = positiveInt(values['batch-size'], 'batch-size');
  const corpus = await readLines(values.corpus);
  if (corpus.length === 0) throw new Error(`${values.corpus} has no texts`);
  const { SentenceTransformer, util } = await modelClass('SentenceTransformer');
  const model = await SentenceTransformer.load(source, loadOptions(values));
  await withModel(model, async (m) => {
    const opts = batchSize ? { batchSize } : {};
    const docs = await m.encodeDocument(corpus, opts);
    const qs = await m.encodeQuery(queries, opts);
    const hits = util.semanticSearch(qs, docs, { topK, scoreFunction: (a, b) => m.similarity(a, b) });
    for (let i = 0; i < queries.length; i++) {
      await emit({ query: queries[i], results: hits[i].map((h) => ({ corpusId: h.corpusId, score: h.score, text: corpus[h.corpusId] })) });
    }
  });
}

async function runRerank([source, query], values) {
  const topK = positiveInt(values['top-k'], 'top-k');
  const batchSize = positiveInt(values['batch-size'], 'batch-size');
  const docs = [];
  for await (const chunk of stdinChunks(1024)) docs.push(...chunk);
  const { CrossEncoder } = await modelClass('CrossEncoder');
  const model = await CrossEncoder.load(source, loadOptions(values));
  await withModel(model, async (m) => {
    if (docs.length === 0) return;
    const opts = { returnDocuments: true };
    if (topK) opts.topK = topK;
    if (batchSize) opts.batchSize = batchSize;
    const ranked = await m.rank(query, docs, opts);
    for (const r of ranked) await emit({ corpusId: r.corpusId, score: r.score, text: r.text ?? docs[r.corpusId] });
  });
}

async function runSparse([source], values) {
  requireStdin();
  if (values.query && values.document) usage('--query and --document exclude each other');
  const nTokens = positiveInt(values.tokens, 'tokens', { allowZero: true }) ?? 10;
  const batchSize = positiveInt(values['batch-size'], 'batch-size');
  const maxActiveDims = positiveInt(values['max-active-dims'], 'max-active-dims');
  const { SparseEncoder } = await modelClass('SparseEncoder');
  const model = await SparseEncoder.load(source, loadOptions(values));
  await withModel(model, async (m) => {
    const opts = {};
    if (batchSize) opts.batchSize = batchSize;
    if (maxActiveDims) opts.maxActiveDims = maxActiveDims;
    const method = values.query ? 'encodeQuery' : values.document ? 'encodeDocument' : 'encode';
    for await (const texts of stdinChunks(256)) {
      const vecs = await m[method](texts, opts);
      for (let i = 0; i < texts.length; i++) {
        const v = vecs[i];
        const out = { text: texts[i], dim: v.dim, indices: Array.from(v.indices), values: Array.from(v.values) };
        if (nTokens > 0) out.tokens = m.decode(v, { topK: nTokens });
        await emit(out);
      }
    }
  });
}

function commandHelp(name) {
  const c = COMMANDS[name];
  return `usage: ${PROG} ${c.usage}\n\n${c.about}\n\noptions:${c.help}\n${COMMON_HELP}`;
}

async function main(argv) {
  const [name, ...rest] = argv;
  if (name === undefined) usage(`a command is required (${Object.keys(COMMANDS).join(', ')}); see ${PROG} --help`);
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${rest[0] && COMMANDS[rest[0]] ? commandHelp(rest[0]) : MAIN_HELP}\n`);
    return;
  }
  const cmd = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : null;
  if (!cmd) usage(`unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(', ')})`);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...COMMON_OPTIONS, ...cmd.options }, allowPositionals: true, strict: true });
  } catch (e) {
    usage(`${name}: ${oneLine(e.message)}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${commandHelp(name)}\n`);
    return;
  }
  if (positionals.length === 0) usage(`${name}: MODEL is required (usage: ${PROG} ${cmd.usage})`);
  if (typeof cmd.positionals === 'number' && positionals.length !== cmd.positionals) {
    usage(`${name}: expected ${cmd.positionals === 1 ? 'MODEL' : 'MODEL QUERY'}, got ${positionals.length} argument${positionals.length === 1 ? '' : 's'} (usage: ${PROG} ${cmd.usage})`);
  }
  await cmd.run(positionals, values);
}

main(process.argv.slice(2)).then(() => {
  process.exitCode = 0;
}, (err) => {
  const code = err && err.code ? `${err.code}: ` : '';
  process.stderr.write(`${PROG}: ${oneLine(`${err instanceof UsageError ? '' : code}${err && err.message ? err.message : err}`)}\n`);
  process.exitCode = err instanceof UsageError ? 2 : 1;
});
