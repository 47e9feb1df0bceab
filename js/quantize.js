/**
 * @file sentence-transformers' quantize_embeddings, bit for bit: int8/uint8
 * scale each dimension by the min/max over the very batch being quantized
 * (float32 arithmetic, truncation toward zero, as numpy's astype does);
 * binary/ubinary pack the signs MSB first (np.packbits(x > 0)).
 */
import { SentenceWasmError } from './errors.js';

export const PRECISIONS = ['float32', 'int8', 'uint8', 'binary', 'ubinary'];

const f = Math.fround;

/** float32 -> integer as numpy's astype on x86: truncation, wrapping; NaN/inf -> 0. */
function toInt8Bits(v) {
  if (!Number.isFinite(v) || Math.abs(v) >= 2 ** 31) return 0;
  return Math.trunc(v) & 0xff;
}

/**
 * @param {Float32Array[]} embs
 * @param {'float32'|'int8'|'uint8'|'binary'|'ubinary'} precision
 * @param {{ calibrationEmbeddings?: Float32Array[] }} [options] vectors whose per-dimension min/max set the int8/uint8 ranges
 * @returns {Float32Array[] | Int8Array[] | Uint8Array[]}
 */
export function quantizeEmbeddings(embs, precision, { calibrationEmbeddings } = {}) {
  if (!PRECISIONS.includes(precision)) {
    throw new SentenceWasmError('INVALID_INPUT', `precision "${precision}" is not one of ${PRECISIONS.join(', ')}`);
  }
  if (precision === 'float32' || embs.length === 0) return embs;
  const dim = embs[0].length;
  if (precision === 'int8' || precision === 'uint8') {
    const starts = new Float32Array(dim).fill(Infinity);
    const ends = new Float32Array(dim).fill(-Infinity);
    // Ranges come from calibration embeddings when given, else from this batch.
    for (const e of calibrationEmbeddings ?? embs) {
      if (e.length !== dim) throw new SentenceWasmError('INVALID_INPUT', `calibration vectors have ${e.length} dims, embeddings ${dim}`);
      for (let j = 0; j < dim; j++) {
        if (e[j] < starts[j]) starts[j] = e[j];
        if (e[j] > ends[j]) ends[j] = e[j];
      }
    }
    const steps = new Float32Array(dim);
    for (let j = 0; j < dim; j++) steps[j] = f(f(ends[j] - starts[j]) / 255);
    return embs.map((e) => {
      const out = precision === 'uint8' ? new Uint8Array(dim) : new Int8Array(dim);
      for (let j = 0; j < dim; j++) {
        let v = f(f(e[j] - starts[j]) / steps[j]);
        if (precision === 'int8') v = f(v - 128);
        out[j] = toInt8Bits(v); // typed-array store wraps to the type's range
      }
      return out;
    });
  }
  if (dim % 8 !== 0) {
    throw new SentenceWasmError('INVALID_INPUT', `precision "${precision}" needs a dimension divisible by 8, got ${dim}`);
  }
  return embs.map((e) => {
    const out = precision === 'ubinary' ? new Uint8Array(dim / 8) : new Int8Array(dim / 8);
    for (let b = 0; b < dim / 8; b++) {
      let byte = 0;
      for (let k = 0; k < 8; k++) byte = (byte << 1) | (e[b * 8 + k] > 0 ? 1 : 0);
      out[b] = precision === 'ubinary' ? byte : byte - 128;
    }
    return out;
  });
}
