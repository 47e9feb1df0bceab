// Compiled with `tsc --noEmit -p tests/types`: the .d.ts describes the API
// as a user writes it. Never run.
import { SentenceTransformer, CrossEncoder, SparseEncoder, SentenceWasmError, util } from 'sentence-wasm';

async function main(): Promise<void> {
  const model = await SentenceTransformer.load('sentence-transformers/all-MiniLM-L6-v2', {
    onProgress: (e) => console.log(e.file, e.loaded, e.total),
    threads: 2,
    wasmBuild: 'auto',
  });
  const shared: boolean = model.sharedMemory && model.threads > 1;
  const build: 'plain' | 'relaxed' = model.wasmBuild;
  const one: Float32Array = await model.encode('hello');
  const many: Float32Array[] = await model.encode(['a', 'b'], { batchSize: 8, normalizeEmbeddings: true });
  const q: Int8Array[] = await model.encode(['a'], { precision: 'int8' });
  const ub: Uint8Array = await model.encode('a', { precision: 'ubinary' });
  const sims: number[][] = model.similarity(one, many);
  const hits = util.semanticSearch(one, many, { topK: 2 });
  const id: number = hits[0][0].corpusId;
  const tok = await model.tokenize(['x']);
  const ids: Int32Array = tok.inputIds[0];
  await model.dispose();

  const fast = await SentenceTransformer.load('sentence-transformers/all-MiniLM-L6-v2', { dtype: 'int8' });
  const fastDtype: 'fp32' | 'int8' = fast.dtype;
  await SentenceTransformer.load('sentence-transformers/all-MiniLM-L6-v2', { dtype: 'q8', threads: 2 });
  // @ts-expect-error fp16 weights are not a dtype the engine has
  await SentenceTransformer.load('x', { dtype: 'fp16' });

  const ce = await CrossEncoder.load('cross-encoder/ms-marco-MiniLM-L6-v2', { dtype: 'int8', maxLength: 256, wasmBuild: 'plain' });
  const ceDtype: 'fp32' | 'int8' = ce.dtype;
  const ceBuild: 'plain' | 'relaxed' = ce.wasmBuild;
  const ranked = await ce.rank('q', ['d1', 'd2'], { topK: 1, returnDocuments: true });
  const text: string | undefined = ranked[0].text;
  const scores = await ce.predict([['q', 'd']]);

  const se = await SparseEncoder.load('naver/splade-v3', { dtype: 'q8' });
  const seDtype: 'fp32' | 'int8' = se.dtype;
  const vec = await se.encode('sparse text', { maxActiveDims: 32 });
  const top: [string, number][] = se.decode(vec, { topK: 5 });

  try {
    await model.encode('x');
  } catch (err) {
    if (err instanceof SentenceWasmError && err.code === 'DISPOSED') console.log('disposed');
  }
  console.log(sims, id, ids, q, ub, text, scores, top, shared, build, ceBuild, fastDtype, ceDtype, seDtype);
}
void main;
