/**
 * @file The SentenceTransformer pipeline, inside the worker: tokenizer ->
 * encoder (C) -> Pooling -> Dense -> Normalize, then the encode() options
 * (truncate_dim, normalize_embeddings, precision) as the library applies
 * them. StaticEmbedding models replace the encoder with a mean of rows.
 */
import { SentenceWasmError } from '../errors.js';
import { NativeEncoder, NativeDense, poolPtr, l2NormalizePtr } from '../binding.js';
import { loadTokenizer } from '../tokenizers/index.js';
import { quantizeEmbeddings } from '../quantize.js';
import { TextEncoderForModel, checkTexts, specialIds } from './text_input.js';
import { planBatches } from './batches.js';
import { loadWeights } from './weights.js';
import { StaticEmbedder } from './static_embedding.js';

export class DensePipeline {
  /** @param {import('../wasm.js').Engine} engine @param {object} spec from model_files.js */
  constructor(engine, spec) {
    this.engine = engine;
    this.spec = spec;
    this.dense = [];
    this.pooling = null;
    this.normalize = false;
    const first = spec.modules[0];
    const tokJson = parseTokenizerJson(first.tokenizerText, first.kind === 'transformer' ? 'tokenizer.json' : '0_StaticEmbedding/tokenizer.json');
    const tokenizer = loadTokenizer(tokJson, { tokenizerConfig: first.tokenizerConfig ?? null });
    checkVocabFits(tokenizer, first);
    try {
      if (first.kind === 'transformer') {
        this.text = new TextEncoderForModel(tokenizer, {
          maxSeqLength: first.maxSeqLength, doLowerCase: first.doLowerCase, special: specialIds(tokJson),
        });
        this.encoder = new NativeEncoder(engine, first.config, spec.dtype);
        loadWeights(first.weights, (t) => this.encoder.wants(t.name), (t, write) => this.encoder.addTensor(t, write, first.weights.file));
        this.encoder.finalize(first.weights.file);
        this.hidden = first.config.hiddenSize;
        this.maxSeqLength = first.maxSeqLength;
      } else {
        // StaticEmbedding tokenizes without special tokens and truncates only
        // where configured: its own config, or (unlike a Transformer, which
        // overrides it) the truncation stored in its tokenizer.json.
        const stored = tokJson.truncation && Number.isInteger(tokJson.truncation.max_length) ? tokJson.truncation.max_length : undefined;
        this.text = new TextEncoderForModel(tokenizer, { maxSeqLength: first.maxSeqLength ?? stored, addSpecialTokens: false });
        this.encoder = new StaticEmbedder(engine, first.weights);
        this.hidden = this.encoder.dim;
        this.maxSeqLength = first.maxSeqLength ?? stored ?? null;
      }
      for (const mod of spec.modules.slice(1)) {
        if (mod.kind === 'pooling') this.pooling = mod;
        else if (mod.kind === 'dense') {
          const d = new NativeDense(engine, mod, mod.weights.file);
          this.dense.push(d);
          loadWeights(mod.weights, () => true, (t, write) => d.addTensor(t, write, mod.weights.file));
          for (const name of ['linear.weight', ...(mod.bias ? ['linear.bias'] : [])]) {
            if (!mod.weights.tensors.some((t) => t.name === name)) {
              throw new SentenceWasmError('BAD_SAFETENSORS', `${mod.weights.file}: tensor "${name}" is missing`);
            }
          }
        } else if (mod.kind === 'normalize') this.normalize = true;
      }
    } catch (err) {
      this.dispose();
      throw err;
    }
    // The file buffers are no longer needed: the engine holds the weights.
    for (const m of spec.modules) if (m.weights) m.weights.buffer = null;
    this.dimension = spec.dimension;
  }

  info() {
    return {
      dimension: this.dimension,
      maxSeqLength: this.maxSeqLength,
      weightBytes: this.encoder.weightBytes() + this.dense.reduce((n, d) => n + d.inFeatures * d.outFeatures * 4, 0),
    };
  }

  tokenize(texts) {
    return this.text.tokenize(texts);
  }

  /**
   * @param {string[]} texts
   * @param {{ batchSize?: number, prompt?: string, normalizeEmbeddings?: boolean, truncateDim?: number,
   *   precision?: string, outputValue?: string }} opts
   * @param {{ isCancelled(): boolean, yield(): Promise<void> }} ctl
   */
  async encode(texts, opts, ctl) {
    checkTexts(texts);
    const { batchSize = 32, prompt = '', normalizeEmbeddings = false, truncateDim, precision = 'float32',
      outputValue = 'sentence_embedding' } = opts;
    const seqs = texts.map((t) => this.text.encode(prompt + t).ids);
    const skip = this.pooling && !this.pooling.includePrompt ? this.text.promptLength(prompt) : 0;
    const tokenLevel = outputValue === 'token_embeddings';
    const out = new Array(texts.length);
    for (const batch of planBatches(seqs, batchSize)) {
      if (ctl.isCancelled()) throw new SentenceWasmError('ABORTED', 'the call was aborted');
      const rows = tokenLevel ? this.#tokenStates(batch.map((i) => seqs[i])) : this.#embedBatch(batch.map((i) => seqs[i]), skip);
      batch.forEach((i, k) => { out[i] = rows[k]; });
      await ctl.yield();
    }
    if (tokenLevel) return out;
    let embs = out;
    if (truncateDim !== undefined && truncateDim !== null && truncateDim < this.dimension) {
      embs = embs.map((e) => e.slice(0, truncateDim));
    }
    if (normalizeEmbeddings) embs.forEach(normalizeInPlace);
    return quantizeEmbeddings(embs, precision);
  }

  /** Token states of each sequence (outputValue 'token_embeddings'). */
  #tokenStates(seqs) {
    if (!(this.encoder instanceof NativeEncoder)) {
      throw new SentenceWasmError('INVALID_INPUT', 'outputValue "token_embeddings" needs a Transformer model');
    }
    this.encoder.forward(seqs, null);
    const h = this.hidden;
    const base = this.encoder.hiddenPtr();
    let off = 0;
    return seqs.map((s) => {
      const rows = this.engine.readF32(base + off * h * 4, s.length * h);
      off += s.length;
      return rows;
    });
  }

  /** One batch through every module; returns a Float32Array per sequence. */
  #embedBatch(seqs, skip) {
    const e = this.engine;
    const n = seqs.length;
    return e.withScope((s) => {
      let width;
      let cur;
      if (this.encoder instanceof NativeEncoder) {
        this.encoder.forward(seqs, null);
        const h = this.hidden;
        const base = this.encoder.hiddenPtr();
        width = h * this.pooling.count;
        cur = s.f32s(n * width);
        let off = 0;
        seqs.forEach((seq, k) => {
          poolPtr(e, base + off * h * 4, seq.length, h, this.pooling.modes, skip, cur + k * width * 4);
          off += seq.length;
        });
      } else {
        width = this.hidden;
        cur = s.f32s(n * width);
        this.encoder.meanRows(seqs, cur);
      }
      for (const d of this.dense) {
        const next = s.f32s(n * d.outFeatures);
        d.forwardPtr(cur, n, next);
        cur = next;
        width = d.outFeatures;
      }
      if (this.normalize) l2NormalizePtr(e, cur, n, width);
      const all = e.readF32(cur, n * width);
      return seqs.map((_, k) => all.slice(k * width, (k + 1) * width));
    });
  }

  dispose() {
    if (this.encoder) this.encoder.free();
    for (const d of this.dense) d.free();
    this.encoder = null;
    this.dense = [];
  }
}

/**
 * Every id the tokenizer can produce must have a row in the embedding matrix;
 * a tokenizer.json larger than the model is a broken folder, refused at load
 * rather than on the first text that happens to use such a token.
 */
function checkVocabFits(tokenizer, first) {
  const isTransformer = first.kind === 'transformer';
  const rows = isTransformer
    ? first.config.vocabSize
    : first.weights.tensors.find((t) => t.name === 'embedding.weight').shape[0];
  if (tokenizer.vocabSize > rows) {
    const maxId = tokenizer.vocabSize - 1;
    throw new SentenceWasmError('BAD_TOKENIZER', `${isTransformer ? 'tokenizer.json' : '0_StaticEmbedding/tokenizer.json'}: `
      + `token ${JSON.stringify(tokenizer.idToToken(maxId))} has id ${maxId}, beyond the ${rows} rows of the embedding matrix `
      + `(${isTransformer ? 'config.json vocab_size' : 'embedding.weight'} ${rows})`);
  }
}

function parseTokenizerJson(text, file) {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new SentenceWasmError('BAD_TOKENIZER', `${file}: not valid JSON (${err.message})`);
  }
}

/** torch.nn.functional.normalize(p=2, eps=1e-12) on one vector. */
export function normalizeInPlace(v) {
  let ss = 0;
  for (let i = 0; i < v.length; i++) ss += v[i] * v[i];
  const inv = Math.fround(1 / Math.max(Math.fround(Math.sqrt(ss)), 1e-12));
  for (let i = 0; i < v.length; i++) v[i] *= inv;
}
