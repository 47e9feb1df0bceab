/**
 * @file The CrossEncoder pipeline, inside the worker: (query, passage) pairs
 * -> pair tokenization with token type ids (no strip, longest_first) ->
 * encoder (C) -> BertPooler + classifier (C) -> the score activation and the
 * optional softmax, in float32 as torch computes them.
 */
import { SentenceWasmError } from '../errors.js';
import { NativeEncoder } from '../binding.js';
import { loadTokenizer } from '../tokenizers/index.js';
import { planBatches } from './batches.js';
import { loadWeights } from './weights.js';

const f = Math.fround;

/** Element-wise activations on logits, by the class name model_config.js resolved. */
const ACTIVATIONS = {
  Identity: (x) => x,
  Sigmoid: (x) => f(1 / (1 + Math.exp(-x))),
  Tanh: (x) => f(Math.tanh(x)),
  ReLU: (x) => (x > 0 ? x : 0),
};

export class CrossPipeline {
  /** @param {import('../wasm.js').Engine} engine @param {object} spec from readCrossEncoder() */
  constructor(engine, spec) {
    this.engine = engine;
    this.tokenizer = loadTokenizer(parseJson(spec.tokenizerText, 'tokenizer.json'), { tokenizerConfig: spec.tokenizerConfig ?? null });
    this.maxLength = spec.maxLength;
    this.numLabels = spec.numLabels;
    // BERT's segment embedding: 0 for the query side, 1 for the passage side.
    this.useTypeIds = spec.config.typeVocabSize > 0;
    this.encoder = new NativeEncoder(engine, spec.config, spec.dtype);
    try {
      const w = spec.weights;
      loadWeights(w, (t) => this.encoder.wants(t.name), (t, write) => this.encoder.addTensor(t, write, w.file));
      this.encoder.finalize(w.file);
    } catch (err) {
      this.dispose();
      throw err;
    }
    spec.weights.buffer = null; // the engine holds the weights now
  }

  info() {
    return { numLabels: this.numLabels, maxLength: this.maxLength, weightBytes: this.encoder.weightBytes() };
  }

  /** Token ids and type ids of each pair, as predict() feeds them to the encoder. */
  tokenize(pairs) {
    checkPairs(pairs);
    const enc = pairs.map(([a, b]) => this.tokenizer.encodePair(a, b, { maxLength: this.maxLength }));
    return { inputIds: enc.map((e) => e.ids), tokenTypeIds: enc.map((e) => e.typeIds) };
  }

  /**
   * Scores of every pair: Float32Array [pairs x numLabels], row-major.
   * @param {[string, string][]} pairs
   * @param {{ batchSize?: number, activationFn?: string, applySoftmax?: boolean }} opts
   * @param {{ isCancelled(): boolean, yield(): Promise<void> }} ctl
   */
  async predict(pairs, opts, ctl) {
    checkPairs(pairs);
    const { batchSize = 32, activationFn = 'Identity', applySoftmax = false } = opts;
    const act = ACTIVATIONS[activationFn];
    if (!act) throw new SentenceWasmError('INVALID_INPUT', `activationFn "${activationFn}" is not one of ${Object.keys(ACTIVATIONS).join(', ')}`);
    const L = this.numLabels;
    const enc = pairs.map(([a, b]) => this.tokenizer.encodePair(a, b, { maxLength: this.maxLength }));
    const out = new Float32Array(pairs.length * L);
    // Sequences are packed without padding, so batch composition does not
    // change a score; planBatches only bounds the tokens per forward pass.
    for (const batch of planBatches(enc.map((e) => e.ids), batchSize)) {
      if (ctl.isCancelled()) throw new SentenceWasmError('ABORTED', 'the call was aborted');
      this.encoder.forward(batch.map((i) => enc[i].ids), this.useTypeIds ? batch.map((i) => enc[i].typeIds) : null);
      const logits = this.encoder.classify(batch.length);
      batch.forEach((i, k) => {
        const row = out.subarray(i * L, (i + 1) * L);
        for (let j = 0; j < L; j++) row[j] = act(logits[k * L + j]);
        // The library applies softmax after the activation, over the labels
        // dimension, for any number of labels (1 label -> always 1.0).
        if (applySoftmax) softmaxInPlace(row);
      });
      await ctl.yield();
    }
    return out;
  }

  dispose() {
    if (this.encoder) this.encoder.free();
    this.encoder = null;
  }
}

/** torch.softmax over one row, float32 result. */
function softmaxInPlace(row) {
  let max = -Infinity;
  for (let j = 0; j < row.length; j++) if (row[j] > max) max = row[j];
  let sum = 0;
  for (let j = 0; j < row.length; j++) { row[j] = f(Math.exp(row[j] - max)); sum += row[j]; }
  for (let j = 0; j < row.length; j++) row[j] = f(row[j] / sum);
}

function checkPairs(pairs) {
  if (!Array.isArray(pairs)) throw new SentenceWasmError('INVALID_INPUT', 'expected an array of [text, text] pairs');
  pairs.forEach((p, i) => {
    if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'string' || typeof p[1] !== 'string') {
      throw new SentenceWasmError('INVALID_INPUT', `pair ${i} is not two strings`);
    }
  });
}

function parseJson(text, file) {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new SentenceWasmError('BAD_TOKENIZER', `${file}: not valid JSON (${err.message})`);
  }
}
