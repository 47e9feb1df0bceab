// Retrieve & rerank: a bi-encoder (SentenceTransformer) finds candidate
// passages fast, then a cross-encoder reads each (query, passage) pair and
// reorders them more accurately.
//
//   node examples/retrieve_rerank.mjs [bi-encoder] [cross-encoder] ["query"]
//
// With no arguments it uses the repository's test fixtures
// tests/fixtures/st-mean and tests/fixtures/cross-1label: tiny models with
// RANDOM weights, so the program runs offline but the ranking means nothing.
// For real results pass Hub ids (or local folders / URLs), e.g.
//
//   node examples/retrieve_rerank.mjs sentence-transformers/all-MiniLM-L6-v2 \
//     cross-encoder/ms-marco-MiniLM-L6-v2 "How do plants make food?"
import { fileURLToPath } from 'node:url';
import { SentenceTransformer, CrossEncoder, util } from 'sentence-wasm';

const fixture = (name) => fileURLToPath(new URL(`../tests/fixtures/${name}`, import.meta.url));
const [biSource = fixture('st-mean'), crossSource = fixture('cross-1label'),
  query = 'How do plants make food?'] = process.argv.slice(2);

const passages = [
  'Photosynthesis lets plants turn sunlight, water and carbon dioxide into sugar.',
  'The Eiffel Tower was finished in 1889 for the World Fair in Paris.',
  'Chlorophyll absorbs mostly blue and red light, which is why leaves look green.',
  'Roots take up water and minerals from the soil.',
  'A bicycle chain transfers power from the pedals to the rear wheel.',
  'Some plants, like the Venus flytrap, also catch insects for nitrogen.',
  'Stock markets fell sharply on Monday after the announcement.',
  'Plants release oxygen as a by-product of making glucose.',
];

const biEncoder = await SentenceTransformer.load(biSource);
const crossEncoder = await CrossEncoder.load(crossSource);
try {
  // 1. Retrieve: embed once, keep the top candidates by similarity.
  const corpus = await biEncoder.encodeDocument(passages);
  const q = await biEncoder.encodeQuery(query);
  const [hits] = util.semanticSearch(q, corpus, { topK: 5 });
  console.log(`Query: ${query}\n\nTop ${hits.length} by ${biSource} (bi-encoder):`);
  for (const h of hits) console.log(`  ${h.score.toFixed(4)}  ${passages[h.corpusId]}`);

  // 2. Rerank: score each (query, candidate) pair jointly.
  const candidates = hits.map((h) => passages[h.corpusId]);
  const ranked = await crossEncoder.rank(query, candidates, { returnDocuments: true });
  console.log(`\nReranked by ${crossSource} (cross-encoder):`);
  for (const r of ranked) console.log(`  ${r.score.toFixed(4)}  ${r.text}`);
} finally {
  await biEncoder.dispose();
  await crossEncoder.dispose();
}
