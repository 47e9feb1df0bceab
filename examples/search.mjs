#!/usr/bin/env node
// Semantic search from the command line: embeds a corpus (one text per line)
// and prints the texts most similar to each query.
//
//   node examples/search.mjs "how do I repair a puncture"
//   node examples/search.mjs --model sentence-transformers/all-MiniLM-L6-v2 --corpus my.txt "query"
//
// The default model is models/static-en, the small English StaticEmbedding
// model this repository trains and ships (see README: "The default model").
// --model takes a local folder, a URL of a model folder, or a Hub id.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SentenceTransformer, util } from '../js/index.js';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    model: { type: 'string', default: here('../models/static-en') },
    corpus: { type: 'string', default: here('./corpus.txt') },
    'top-k': { type: 'string', default: '3' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help || positionals.length === 0) {
  console.log('usage: node examples/search.mjs [--model DIR|URL|org/name] [--corpus FILE] [--top-k N] "query" ["query" ...]');
  process.exit(values.help ? 0 : 1);
}

const corpus = (await readFile(values.corpus, 'utf8')).split('\n').map((l) => l.trim()).filter(Boolean);
const model = await SentenceTransformer.load(values.model);
try {
  const corpusEmbeddings = await model.encodeDocument(corpus);
  const queryEmbeddings = await model.encodeQuery(positionals);
  const hits = util.semanticSearch(queryEmbeddings, corpusEmbeddings, { topK: Number(values['top-k']) });
  positionals.forEach((q, i) => {
    console.log(`\nquery: ${q}`);
    for (const h of hits[i]) console.log(`  ${h.score.toFixed(4)}  ${corpus[h.corpusId]}`);
  });
} finally {
  await model.dispose();
}
