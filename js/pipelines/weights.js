/**
 * @file Hands the tensors of one safetensors file (read and header-checked
 * on the main thread, transferred here) to an engine object.
 */
import { SentenceWasmError } from '../errors.js';

/**
 * @param {{ file: string, buffer: ArrayBuffer, tensors: {name:string,dtype:string,shape:number[],begin:number,end:number}[] }} weights
 * @param {(t: object) => boolean} wanted  skip tensors the engine does not use (no copy)
 * @param {(t: object, bytes: Uint8Array) => void} add
 */
export function loadWeights(weights, wanted, add) {
  if (!weights.buffer) throw new SentenceWasmError('ENGINE_ERROR', `${weights.file}: weights were already consumed`);
  const bytes = new Uint8Array(weights.buffer);
  for (const t of weights.tensors) {
    if (!wanted(t)) continue;
    if (!(t.begin >= 0 && t.end <= bytes.length && t.begin <= t.end)) {
      throw new SentenceWasmError('BAD_SAFETENSORS', `${weights.file}: tensor "${t.name}" lies outside the file`);
    }
    add(t, bytes.subarray(t.begin, t.end));
  }
}
