/**
 * @file The SparseEncoder (SPLADE) pipeline, inside the worker: text ->
 * tokenizer (strip, truncation at max_seq_length) -> encoder (C) -> MLM head
 * fused with SpladePooling (C, by vocabulary chunks) -> a sparse vector
 * { indices (ascending), values, dim } per text, optionally cut to the
 * max_active_dims largest values.
 */
import { SentenceWasmError } from '../errors.js';
import { NativeEncoder } from '../binding.js';
import { loadTokenizer } from '../tokenizers/index.js';
import { TextEncoderForModel, checkTexts, specialIds } from './text_input.js';
import { planBatches } from './batches.js';
import { loadWeights } from './weights.js';

const MLM_BIAS = 'cls.predictions.bias';
const DECODER_BIAS = 'cls.predictions.decoder.bias';

export class SparsePipeline {
  /** @param {import('../wasm.js').Engine} engine @param {object} spec from readSparseEncoder() */
  constructor(engine, spec) {
    this.engine = engine;
    const mod = spec.transformer;
    const tokJson = parseJson(mod.tokenizerText, 'tokenizer.json');
    this.tokenizer = loadTokenizer(tokJson, { tokenizerConfig: mod.tokenizerConfig ?? null });
    this.text = new TextEncoderForModel(this.tokenizer, {
      maxSeqLength: mod.maxSeqLength, doLowerCase: mod.doLowerCase, special: specialIds(tokJson),
    });
    this.maxSeqLength = mod.maxSeqLength;
    this.dim = mod.config.vocabSize;
    this.pooling = spec.pooling;
    this.encoder = new NativeEncoder(engine, mod.config, spec.dtype);
    try {
      const w = mod.weights;
      // transformers ties decoder.bias to cls.predictions.bias and saves one of
      // the two; a file that kept only the decoder's name still has the bias.
      const hasBias = w.tensors.some((t) => t.name === MLM_BIAS || t.name === `bert.${MLM_BIAS}`);
      const rename = (t) => (!hasBias && t.name === DECODER_BIAS ? { ...t, name: MLM_BIAS } : t);
      loadWeights(w, (t) => this.encoder.wants(rename(t).name),
        (t, write) => this.encoder.addTensor(rename(t), write, w.file));
      this.encoder.finalize(w.file);
    } catch (err) {
      this.dispose();
      throw err;
    }
    mod.weights.buffer = null; // the engine holds the weights now
  }

  info() {
    // Token strings for decode() on the main thread (one array, sent once).
    const vocab = new Array(this.dim);
    for (let i = 0; i < this.dim; i++) vocab[i] = this.tokenizer.idToToken(i) ?? null;
    return { dimension: this.dim, maxSeqLength: this.maxSeqLength, weightBytes: this.encoder.weightBytes(), vocab };
  }

  tokenize(texts) {
    return this.text.tokenize(texts);
  }

  /**
   * @param {string[]} texts
   * @param {{ batchSize?: number, prompt?: string, maxActiveDims?: number|null }} opts
   * @param {{ isCancelled(): boolean, yield(): Promise<void> }} ctl
   * @returns {Promise<{ indices: Uint32Array, values: Float32Array, dim: number }[]>}
   */
  async encode(texts, opts, ctl) {
    checkTexts(texts);
    const { batchSize = 32, prompt = '', maxActiveDims = null } = opts;
    // SPLADE pools over every position (prompt included), so no prompt mask.
    const seqs = texts.map((t) => this.text.encode(prompt + t).ids);
    const out = new Array(texts.length);
    const V = this.dim;
    for (const batch of planBatches(seqs, batchSize)) {
      if (ctl.isCancelled()) throw new SentenceWasmError('ABORTED', 'the call was aborted');
      this.encoder.forward(batch.map((i) => seqs[i]), null);
      const dense = this.encoder.splade(batch.length, this.pooling);
      batch.forEach((i, k) => { out[i] = toSparse(dense.subarray(k * V, (k + 1) * V), maxActiveDims); });
      await ctl.yield();
    }
    return out;
  }

  dispose() {
    if (this.encoder) this.encoder.free();
    this.encoder = null;
  }
}

/**
 * Dense row -> { indices ascending, values, dim }, keeping non-zeros only
 * (what torch's to_sparse keeps). With k = maxActiveDims, only the k largest
 * |values| survive, as select_max_active_dims does with torch.topk; among
 * equal values at the cut the lower vocabulary ids are kept (torch.topk leaves
 * that order unspecified).
 */
export function toSparse(row, k) {
  let n = 0;
  for (let j = 0; j < row.length; j++) if (row[j] !== 0) n++;
  let idx = new Uint32Array(n);
  n = 0;
  for (let j = 0; j < row.length; j++) if (row[j] !== 0) idx[n++] = j;
  if (k !== null && k !== undefined && k < idx.length) {
    const order = Array.from(idx).sort((a, b) => Math.abs(row[b]) - Math.abs(row[a]) || a - b);
    idx = Uint32Array.from(order.slice(0, k)).sort();
  }
  const values = new Float32Array(idx.length);
  for (let j = 0; j < idx.length; j++) values[j] = row[idx[j]];
  return { indices: idx, values, dim: row.length };
}

function parseJson(text, file) {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new SentenceWasmError('BAD_TOKENIZER', `${file}: not valid JSON (${err.message})`);
  }
}
