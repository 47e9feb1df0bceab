// Sparse (SPLADE) search: encode documents into sparse vectors over the
// vocabulary, store them in a small inverted index (token id -> postings),
// and score a query by the dot product over the tokens it shares with each
// document - the same arithmetic a search engine does with SPLADE weights.
//
//   node examples/sparse_search.mjs [sparse-encoder] ["query"]
//
// With no arguments it uses tests/fixtures/sparse-splade-max, a tiny model
// with RANDOM weights: it runs offline but the results mean nothing. For real
// results pass a Hub id (or a local folder / URL), e.g.
//
//   node examples/sparse_search.mjs naver/splade-cocondenser-ensembledistil "what do bees make?"
import { fileURLToPath } from 'node:url';
import { SparseEncoder } from 'sentence-wasm';

const fixture = (name) => fileURLToPath(new URL(`../tests/fixtures/${name}`, import.meta.url));
const [source = fixture('sparse-splade-max'), query = 'what do bees make?'] = process.argv.slice(2);

const documents = [
  'Honey bees collect nectar and turn it into honey inside the hive.',
  'Wasps build paper nests from chewed wood fibre.',
  'The violin has four strings tuned in perfect fifths.',
  'Beeswax is made by worker bees and used to build the comb.',
  'Mount Everest is the highest mountain above sea level.',
  'Pollinators such as bees and butterflies help crops produce fruit.',
];

/** token id -> [{ doc, weight }]: only the non-zero entries of each vector. */
class InvertedIndex {
  postings = new Map();

  add(doc, vec) {
    for (let i = 0; i < vec.indices.length; i++) {
      const id = vec.indices[i];
      if (!this.postings.has(id)) this.postings.set(id, []);
      this.postings.get(id).push({ doc, weight: vec.values[i] });
    }
  }

  /** Dot product of the query with every document that shares a token, best first. */
  search(q, topK = 3) {
    const scores = new Map();
    for (let i = 0; i < q.indices.length; i++) {
      for (const { doc, weight } of this.postings.get(q.indices[i]) ?? []) {
        scores.set(doc, (scores.get(doc) ?? 0) + q.values[i] * weight);
      }
    }
    return [...scores].map(([doc, score]) => ({ doc, score }))
      .sort((a, b) => b.score - a.score || a.doc - b.doc).slice(0, topK);
  }
}

const model = await SparseEncoder.load(source);
try {
  const docVecs = await model.encodeDocument(documents);
  const index = new InvertedIndex();
  docVecs.forEach((v, i) => index.add(i, v));
  const { activeDims, sparsityRatio } = model.sparsity(docVecs);
  console.log(`${documents.length} documents, ${index.postings.size} distinct tokens, `
    + `${activeDims.toFixed(1)} active dims per document (sparsity ${(100 * sparsityRatio).toFixed(2)}%)`);

  const q = await model.encodeQuery(query);
  console.log(`\nQuery: ${query}`);
  console.log('Query expansion (top tokens):', model.decode(q, { topK: 8 })
    .map(([tok, w]) => `${tok}:${w.toFixed(2)}`).join(' '));

  console.log('\nResults:');
  for (const { doc, score } of index.search(q, 3)) console.log(`  ${score.toFixed(4)}  ${documents[doc]}`);

  // The index gives the same numbers as the model's own dot-product similarity.
  if (model.similarityFnName === 'dot') {
    const check = model.similarity(q, docVecs)[0];
    console.log('\nmodel.similarity agrees:', index.search(q, documents.length)
      .every(({ doc, score }) => Math.abs(check[doc] - score) < 1e-4));
  }
} finally {
  await model.dispose();
}
