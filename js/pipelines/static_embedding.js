/**
 * @file StaticEmbedding in the worker: the sw_static table of the engine,
 * used in place of a Transformer + Pooling.
 */
import { SentenceWasmError } from '../errors.js';
import { DTYPES } from '../binding.js';
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
    loadWeights(weights, (w) => w.name === 'embedding.weight', (w, bytes) => {
      if (DTYPES[w.dtype] === undefined) {
        throw new SentenceWasmError('BAD_SAFETENSORS', `${weights.file}: tensor "${w.name}" has dtype ${w.dtype}; the engine reads F32, F16 and BF16`);
      }
      engine.withScope((s) => {
        const rc = x.sw_static_add_tensor(this.ptr, s.cstring(w.name), DTYPES[w.dtype], 2, s.i64s(w.shape),
          (() => { const p = s.alloc(bytes.length); engine.u8.set(bytes, p); return p; })(), bytes.length);
        if (rc !== 0) throw new SentenceWasmError('BAD_SAFETENSORS', `${weights.file}: ${engine.lastError()}`);
      });
    });
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
