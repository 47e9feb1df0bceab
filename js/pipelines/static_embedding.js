/**
 * @file StaticEmbedding in the worker: the sw_static table of the engine,
 * used in place of a Transformer + Pooling.
 */
import { SentenceWasmError } from '../errors.js';
import { addTensor } from '../binding.js';
import { loadWeights } from './weights.js';

export class StaticEmbedder {
  constructor(engine, weights) {
    this.engine = engine;
    const t = weights.tensors.find((x) => x.name === 'embedding.weight');
    const [vocab, dim] = t.shape;
    this.dim = dim;
    this.vocab = vocab;
    const x = engine.exports;
    this.ptr = x.sw_static_create(vocab, dim) >>> 0;
    if (!this.ptr) throw new SentenceWasmError('BAD_CONFIG', `${weights.file}: ${engine.lastError()}`);
    loadWeights(weights, (w) => w.name === 'embedding.weight', (w, write) => addTensor(engine, w, write,
      (...a) => x.sw_static_add_tensor(this.ptr, ...a), weights.file));
  }

  weightBytes() { return this.vocab * this.dim * 4; }

  /** Means of rows for packed sequences into WASM memory at outPtr ([n x dim]). */
  meanRows(seqs, outPtr) {
    const e = this.engine;
    e.withScope((s) => {
      const total = seqs.reduce((n, a) => n + a.length, 0);
      const lens = s.i32s(seqs.map((a) => a.length));
      const ids = s.alloc(total * 4 || 4);
      let off = 0;
      for (const a of seqs) { e.i32.set(a, (ids >>> 2) + off); off += a.length; }
      const rc = e.exports.sw_static_forward(this.ptr, seqs.length, lens, ids, outPtr);
      if (rc !== 0) throw new SentenceWasmError('INVALID_INPUT', `StaticEmbedding: ${e.lastError()}`);
    });
  }

  free() {
    if (this.ptr) this.engine.exports.sw_static_free(this.ptr);
    this.ptr = 0;
  }
}
