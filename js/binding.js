/**
 * @file The C API of src/sentence_wasm.h as JS objects. C never throws: each
 * status code becomes a SentenceWasmError here, with the engine's message.
 *
 * Everything here runs inside the worker, next to the WASM memory.
 */
import { SentenceWasmError } from './errors.js';

/** sw_status -> error code. */
const STATUS_CODES = {
  [-1]: 'INVALID_INPUT',     // SW_ERR_INVALID_ARG
  [-2]: 'ENGINE_ERROR',      // SW_ERR_NO_MEMORY
  [-3]: 'BAD_SAFETENSORS',   // SW_ERR_BAD_TENSOR
  [-4]: 'BAD_SAFETENSORS',   // SW_ERR_MISSING_TENSOR
  [-5]: 'BAD_CONFIG',        // SW_ERR_BAD_CONFIG
  [-6]: 'ENGINE_ERROR',      // SW_ERR_STATE
};

/** Values of the C enums this file passes (keep in sync with sentence_wasm.h). */
export const DTYPES = { F32: 0, F16: 1, BF16: 2 };
export const ACT = { identity: 0, gelu: 1, gelu_tanh: 2, relu: 3, tanh: 4, sigmoid: 5 };
export const HEAD = { none: 0, mlm: 1, classifier: 2 };
export const POOL = { cls: 1, max: 2, mean: 4, mean_sqrt_len_tokens: 8, weightedmean: 16, lasttoken: 32 };
/** sw_config.quantize by weight dtype (SW_QUANT_NONE, SW_QUANT_INT8). */
export const QUANTIZE = { fp32: 0, int8: 1 };

function check(engine, rc, context) {
  if (rc === 0) return;
  const code = STATUS_CODES[rc] || 'ENGINE_ERROR';
  throw new SentenceWasmError(code, `${context}: ${engine.lastError() || `engine status ${rc}`}`);
}

function checkPtr(engine, ptr, context, code = 'BAD_CONFIG') {
  if (!ptr) throw new SentenceWasmError(code, `${context}: ${engine.lastError() || 'engine returned NULL'}`);
  return ptr >>> 0; /* unsigned: see Engine.alloc */
}

/**
 * Copies one safetensors tensor into the engine through a scratch buffer.
 * `write(dst)` fills the scratch with the tensor's bytes (see
 * pipelines/weights.js); `add(namePtr, dtype, ndim, shapePtr, dataPtr, nbytes)`
 * is the C add_tensor.
 */
export function addTensor(engine, tensor, write, add, fileName) {
  const dtype = DTYPES[tensor.dtype];
  if (dtype === undefined) {
    throw new SentenceWasmError('BAD_SAFETENSORS',
      `${fileName}: tensor "${tensor.name}" has dtype ${tensor.dtype}; the engine reads F32, F16 and BF16`);
  }
  const nbytes = tensor.end - tensor.begin;
  engine.withScope((s) => {
    const name = s.cstring(tensor.name);
    const shape = s.i64s(tensor.shape);
    const data = s.alloc(nbytes);
    write(engine.u8.subarray(data, data + nbytes));
    check(engine, add(name, dtype, tensor.shape.length, shape, data, nbytes), fileName);
  });
}

/** A BERT encoder with its weights: sw_model + one sw_ctx. */
export class NativeEncoder {
  /**
   * @param {import('./wasm.js').Engine} engine
   * @param {{vocabSize:number, hiddenSize:number, numLayers:number, numHeads:number,
   *   intermediateSize:number, maxPosition:number, typeVocabSize:number, hiddenAct:number,
   *   heads:number, numLabels:number, layerNormEps:number}} cfg
   * @param {'fp32' | 'int8'} [dtype] how the engine holds the Linear weights (sw_config.quantize)
   */
  constructor(engine, cfg, dtype = 'fp32') {
    this.engine = engine;
    this.cfg = cfg;
    const x = engine.exports;
    this.model = engine.withScope((s) => {
      const p = s.alloc(48); // sizeof(sw_config)
      const i32 = engine.i32;
      const f32 = engine.f32;
      const ints = [cfg.vocabSize, cfg.hiddenSize, cfg.numLayers, cfg.numHeads, cfg.intermediateSize,
        cfg.maxPosition, cfg.typeVocabSize, cfg.hiddenAct, cfg.heads, cfg.numLabels];
      ints.forEach((v, i) => { i32[(p >>> 2) + i] = v; });
      f32[(p >>> 2) + 10] = cfg.layerNormEps;
      i32[(p >>> 2) + 11] = QUANTIZE[dtype];
      return checkPtr(engine, x.sw_model_create(p), 'config.json');
    });
    this.ctx = 0;
  }

  /** True if the engine uses a tensor of this name (others are not copied). */
  wants(name) {
    return this.engine.withScope((s) => this.engine.exports.sw_model_tensor_known(this.model, s.cstring(name)) === 1);
  }

  addTensor(tensor, write, fileName) {
    addTensor(this.engine, tensor, write, (...a) => this.engine.exports.sw_model_add_tensor(this.model, ...a), fileName);
  }

  finalize(fileName) {
    const x = this.engine.exports;
    check(this.engine, x.sw_model_finalize(this.model), fileName);
    this.ctx = checkPtr(this.engine, x.sw_ctx_create(this.model), 'engine', 'ENGINE_ERROR');
  }

  weightBytes() { return this.engine.exports.sw_model_weight_bytes(this.model) >>> 0; }

  /**
   * Runs the encoder on packed sequences; leaves the states in the ctx.
   * @param {Int32Array[]} ids  @param {Int32Array[] | null} typeIds
   * @returns {number} total tokens
   */
  forward(ids, typeIds) {
    const e = this.engine;
    const total = ids.reduce((n, a) => n + a.length, 0);
    return e.withScope((s) => {
      const lens = s.i32s(ids.map((a) => a.length));
      const idp = s.alloc(total * 4);
      const tp = typeIds ? s.alloc(total * 4) : 0;
      const i32 = e.i32;
      let off = 0;
      for (let i = 0; i < ids.length; i++) {
        i32.set(ids[i], (idp >>> 2) + off);
        if (tp) i32.set(typeIds[i], (tp >>> 2) + off);
        off += ids[i].length;
      }
      check(e, e.exports.sw_ctx_forward(this.ctx, ids.length, lens, idp, tp), 'forward');
      return total;
    });
  }

  /** Pointer to the token states of the last forward ([tokens x hidden]). */
  hiddenPtr() { return this.engine.exports.sw_ctx_hidden(this.ctx) >>> 0; }

  /** Classifier logits of the last forward: Float32Array [nSeq x numLabels]. */
  classify(nSeq) {
    const e = this.engine;
    return e.withScope((s) => {
      const out = s.f32s(nSeq * this.cfg.numLabels);
      check(e, e.exports.sw_ctx_classify(this.ctx, out), 'classify');
      return e.readF32(out, nSeq * this.cfg.numLabels);
    });
  }

  /** SPLADE vectors of the last forward: Float32Array [nSeq x vocab]. */
  splade(nSeq, { sum, log1pTwice }) {
    const e = this.engine;
    return e.withScope((s) => {
      const out = s.f32s(nSeq * this.cfg.vocabSize);
      check(e, e.exports.sw_ctx_splade(this.ctx, sum ? 1 : 0, log1pTwice ? 1 : 0, out), 'splade');
      return e.readF32(out, nSeq * this.cfg.vocabSize);
    });
  }

  free() {
    const x = this.engine.exports;
    if (this.ctx) x.sw_ctx_free(this.ctx);
    if (this.model) x.sw_model_free(this.model);
    this.ctx = 0;
    this.model = 0;
  }
}

/** A sentence-transformers Dense module (sw_dense). */
export class NativeDense {
  constructor(engine, { inFeatures, outFeatures, bias, act }, fileName) {
    this.engine = engine;
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.ptr = checkPtr(engine, engine.exports.sw_dense_create(inFeatures, outFeatures, bias ? 1 : 0, act), fileName);
  }

  addTensor(tensor, write, fileName) {
    addTensor(this.engine, tensor, write, (...a) => this.engine.exports.sw_dense_add_tensor(this.ptr, ...a), fileName);
  }

  /** In WASM memory: x [n x in] -> y [n x out]. */
  forwardPtr(xPtr, n, yPtr) {
    check(this.engine, this.engine.exports.sw_dense_forward(this.ptr, xPtr, n, yPtr), 'Dense');
  }

  free() {
    if (this.ptr) this.engine.exports.sw_dense_free(this.ptr);
    this.ptr = 0;
  }
}

/** sw_pool on states already in WASM memory. */
export function poolPtr(engine, hPtr, n, dim, modes, skip, outPtr) {
  check(engine, engine.exports.sw_pool(hPtr, n, dim, modes, skip, outPtr), 'Pooling');
}

export function l2NormalizePtr(engine, ptr, n, dim) {
  check(engine, engine.exports.sw_l2_normalize(ptr, n, dim), 'Normalize');
}
