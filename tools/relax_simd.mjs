#!/usr/bin/env node
/**
 * @file relax_simd.mjs — turns the pre-standard relaxed-SIMD opcode that
 * clang 14 emits into the standard one, in a linked .wasm.
 *
 *   node tools/relax_simd.mjs IN.wasm OUT.wasm      (OUT may be IN)
 *
 * Why: Debian's clang 14 knows only the relaxed-SIMD prototype. Its
 * __builtin_wasm_fma_f32x4 emits "f32x4.fma" = 0xfd 0xaf 0x01 (prototype
 * semantics a + b*c), which engines reject. The standard f32x4.relaxed_madd
 * is 0xfd 0x85 0x02 (0x105 as LEB128; semantics a*b + c for the same stack
 * operands): same length, so the module's layout does not change. The C side
 * of the contract, and why the changed semantics are intended, is in
 * src/relaxed_simd.h.
 *
 * Safely: the module is parsed section by section, and every function body
 * of the code section is decoded instruction by instruction, immediates
 * included, so that only real opcodes are rewritten and never bytes that
 * happen to look like one inside a constant, a shuffle mask or a LEB128.
 * Anything the decoder does not know (an opcode, a malformed LEB128, a body
 * that does not end where its size says) stops the tool with an error rather
 * than a guess. Other prototype relaxed-SIMD opcodes stop it too: their
 * standard operand order and semantics differ case by case, and the engine
 * uses none of them.
 *
 * The rewritten module must then validate under relaxed SIMD: in this
 * process when it supports relaxed SIMD, else in a child `node
 * --experimental-wasm-relaxed-simd` (Node 20). Zero rewrites is an error
 * too: it means the relaxed build has no relaxed instruction left (a changed
 * compiler, a lost -DSW_RELAXED_SIMD), which should be looked at, not shipped.
 *
 * Link such a module without binaryen's optimizer (emcc -O1 at link time):
 * binaryen 108 reads the prototype opcode as a + b*c and constant-folds it
 * that way, which this rewrite cannot undo (src/relaxed_simd.h).
 *
 * The `target_features` custom section, when a linker leaves one, is
 * metadata for tools; engines ignore custom sections. It is reported, not
 * changed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Prototype opcode (clang 14 / binaryen 108) -> standard opcode. The only mapping. */
const REWRITES = new Map([[0xaf, { from: 'f32x4.fma', to: 'f32x4.relaxed_madd', op: 0x105 }]]);

/**
 * The other prototype relaxed-SIMD opcodes of LLVM 14 (checked with
 * llvm-objdump on its builtins). They sit in gaps of the standard SIMD
 * opcode space, so they cannot be mistaken for standard instructions.
 */
const PRESTANDARD = new Map([
  [0xa2, 'i8x16.relaxed_swizzle'], [0xa5, 'i32x4.relaxed_trunc_f32x4_s'], [0xa6, 'i32x4.relaxed_trunc_f32x4_u'],
  [0xb0, 'f32x4.fms'], [0xb2, 'i8x16.laneselect'], [0xb3, 'i16x8.laneselect'], [0xb4, 'f32x4.relaxed_min'],
  [0xc5, 'i32x4.relaxed_trunc_f64x2_s_zero'], [0xc6, 'i32x4.relaxed_trunc_f64x2_u_zero'], [0xcf, 'f64x2.fma'],
  [0xd0, 'f64x2.fms'], [0xd2, 'i32x4.laneselect'], [0xd3, 'i64x2.laneselect'], [0xd4, 'f64x2.relaxed_min'],
  [0xe2, 'f32x4.relaxed_max'], [0xee, 'f64x2.relaxed_max'],
]);

// ---- the standard SIMD opcode space (0xfd prefix), by immediate kind ----
const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
/** v128 loads/stores and load_zero: memarg */
const SIMD_MEMARG = new Set([...range(0x00, 0x0b), 0x5c, 0x5d]);
/** load_lane/store_lane: memarg, then a lane index byte */
const SIMD_MEMARG_LANE = new Map([[0x54, 16], [0x55, 8], [0x56, 4], [0x57, 2], [0x58, 16], [0x59, 8], [0x5a, 4], [0x5b, 2]]);
/** extract_lane/replace_lane: a lane index byte, below the lane count */
const SIMD_LANE = new Map([[0x15, 16], [0x16, 16], [0x17, 16], [0x18, 8], [0x19, 8], [0x1a, 8], [0x1b, 4], [0x1c, 4],
  [0x1d, 2], [0x1e, 2], [0x1f, 4], [0x20, 4], [0x21, 2], [0x22, 2]]);
/** Unassigned in the final SIMD proposal (the prototype relaxed ops above live in some of them). */
const SIMD_GAPS = new Set([0x9a, 0xa2, 0xa5, 0xa6, 0xaf, 0xb0, 0xb2, 0xb3, 0xb4, 0xbb, 0xc2, 0xc5, 0xc6, 0xcf, 0xd0,
  0xd2, 0xd3, 0xd4, 0xe2, 0xee]);
/** No immediates: the rest of 0x0e..0xff, and the standard relaxed-SIMD ops 0x100..0x113. */
const SIMD_PLAIN = new Set([...range(0x0e, 0x14), ...range(0x23, 0x53), ...range(0x5e, 0xff), ...range(0x100, 0x113)]
  .filter((op) => !SIMD_GAPS.has(op)));

/** Value types of locals, select and block types: i32 i64 f32 f64 v128 funcref externref. */
const VALTYPES = new Set([0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f]);

const hex = (n) => `0x${n.toString(16).padStart(2, '0')}`;

class WasmFormatError extends Error {
  constructor(message) { super(message); this.name = 'WasmFormatError'; }
}

/** A cursor over bytes[pos, end) that refuses to read past end. */
class Reader {
  constructor(bytes, pos, end, where) {
    this.b = bytes; this.pos = pos; this.end = end; this.where = where;
  }

  fail(msg, at = this.pos) { throw new WasmFormatError(`${this.where()} at byte ${hex(at)}: ${msg}`); }

  u8() {
    if (this.pos >= this.end) this.fail('unexpected end');
    return this.b[this.pos++];
  }

  skip(n) {
    if (this.pos + n > this.end) this.fail(`unexpected end (${n} bytes needed)`);
    this.pos += n;
  }

  /** Unsigned LEB128 of at most `bits` bits (32: u32, 64: u64); returns a Number (u64 up to 2^53 exactly). */
  uleb(bits = 32) {
    const start = this.pos;
    const maxBytes = Math.ceil(bits / 7);
    let result = 0, mul = 1;
    for (let i = 0; i < maxBytes; i++) {
      const byte = this.u8();
      result += (byte & 0x7f) * mul;
      mul *= 128;
      if (!(byte & 0x80)) {
        // the last byte may not carry bits beyond `bits`
        if (i === maxBytes - 1 && bits % 7 && (byte & 0x7f) >> (bits % 7)) this.fail(`u${bits} LEB128 out of range`, start);
        return result;
      }
    }
    return this.fail(`u${bits} LEB128 longer than ${maxBytes} bytes`, start);
  }

  /** Signed LEB128 of at most `bits` bits: skipped (only its length matters), checked for length. */
  sleb(bits) {
    const start = this.pos;
    const maxBytes = Math.ceil(bits / 7);
    for (let i = 0; i < maxBytes; i++) if (!(this.u8() & 0x80)) return;
    this.fail(`s${bits} LEB128 longer than ${maxBytes} bytes`, start);
  }
}

/**
 * Rewrites the prototype f32x4.fma opcodes of a module.
 * @param {Uint8Array} input a whole .wasm module
 * @param {{ requireRewrites?: boolean }} [options] requireRewrites (default true): zero rewrites is an error
 * @returns {{ bytes: Uint8Array, rewrites: number, functions: number, instructions: number,
 *   simdInstructions: number, relaxedInstructions: number, targetFeatures: string[] | null }}
 *   relaxedInstructions: standard relaxed-SIMD instructions (0xfd 0x100..0x113) in the result
 * @throws {WasmFormatError} on anything it cannot decode, a prototype op it does not map, or nothing to rewrite
 */
export function relaxSimd(input, { requireRewrites = true } = {}) {
  const bytes = Uint8Array.from(input); // a copy: the input is left as it was
  const top = new Reader(bytes, 0, bytes.length, () => 'module');
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) top.fail('not a WebAssembly module (no \\0asm)', 0);
  if (bytes[4] !== 1 || bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) top.fail('not a version 1 module', 4);
  top.pos = 8;
  const stats = { rewrites: 0, functions: 0, instructions: 0, simdInstructions: 0, relaxedInstructions: 0, targetFeatures: null };
  let codeSections = 0, declaredFunctions = null;
  while (top.pos < bytes.length) {
    const id = top.u8();
    const size = top.uleb();
    const start = top.pos, end = start + size;
    if (end > bytes.length) top.fail(`section ${id} (${size} bytes) runs past the end of the module`, start);
    const sec = new Reader(bytes, start, end, () => `section ${id}`);
    if (id === 0) {
      const nameLen = sec.uleb();
      const nameAt = sec.pos;
      sec.skip(nameLen);
      const name = new TextDecoder().decode(bytes.subarray(nameAt, sec.pos));
      if (name === 'target_features') stats.targetFeatures = readTargetFeatures(sec);
    } else if (id === 3) {
      declaredFunctions = sec.uleb();
    } else if (id === 10) {
      codeSections++;
      decodeCodeSection(bytes, sec, stats);
    } else if (id > 13) {
      top.fail(`unknown section id ${id}`, start - 1);
    }
    top.pos = end;
  }
  if (codeSections !== 1) top.fail(`expected one code section, found ${codeSections}`, 8);
  if (declaredFunctions !== null && declaredFunctions !== stats.functions) {
    top.fail(`function section declares ${declaredFunctions} functions, code section has ${stats.functions}`, 8);
  }
  if (stats.rewrites === 0 && requireRewrites) {
    throw new WasmFormatError('no f32x4.fma (0xfd 0xaf 0x01) found: nothing to rewrite. Was the module built with '
      + '-mrelaxed-simd -DSW_RELAXED_SIMD, and does its compiler still emit the prototype opcode?');
  }
  return { bytes, ...stats };
}

/** target_features: vec of (prefix '+'|'-'|'=', name); returned as ['+simd128', ...]. */
function readTargetFeatures(r) {
  const out = [];
  const n = r.uleb();
  for (let i = 0; i < n; i++) {
    const prefix = String.fromCharCode(r.u8());
    const len = r.uleb();
    const at = r.pos;
    r.skip(len);
    out.push(prefix + new TextDecoder().decode(r.b.subarray(at, at + len)));
  }
  return out;
}

function decodeCodeSection(bytes, sec, stats) {
  const count = sec.uleb();
  for (let f = 0; f < count; f++) {
    const size = sec.uleb();
    const start = sec.pos, end = start + size;
    if (end > sec.end) sec.fail(`body of function ${f} runs past the code section`);
    decodeBody(bytes, new Reader(bytes, start, end, () => `function ${f} (code entry ${f})`), stats);
    stats.functions++;
    sec.pos = end;
  }
  if (sec.pos !== sec.end) sec.fail('code section has bytes after its last function body');
}

function blockType(r) {
  const b = r.b[r.pos];
  if (b === 0x40 || VALTYPES.has(b)) { r.pos++; return; }
  const at = r.pos;
  if (b & 0x40) r.fail(`block type ${hex(b)} is neither a value type nor a type index`, at);
  r.sleb(33); // a type index (multi-value)
}

function memarg(r) {
  const align = r.uleb();
  if (align & 0x40) r.uleb(); // multi-memory: a memory index follows
  r.uleb(64); // offset (u64 for memory64; u32 otherwise)
}

/** Decodes one function body (locals, then instructions up to its final end); rewrites in place. */
function decodeBody(bytes, r, stats) {
  const groups = r.uleb();
  for (let i = 0; i < groups; i++) {
    r.uleb(); // count
    const t = r.u8();
    if (!VALTYPES.has(t)) r.fail(`unknown local type ${hex(t)}`, r.pos - 1);
  }
  let depth = 1; // the function's own block
  while (depth > 0) {
    const at = r.pos;
    const op = r.u8();
    stats.instructions++;
    if (op === 0x0b) { depth--; continue; }
    if (op === 0x02 || op === 0x03 || op === 0x04) { blockType(r); depth++; continue; }
    if (op === 0xfd) { simd(bytes, r, at, stats); continue; }
    if (op === 0xfc) { misc(r, at); continue; }
    if (op === 0xfe) { atomic(r, at); continue; }
    switch (op) {
      case 0x00: case 0x01: case 0x05: case 0x0f: case 0x1a: case 0x1b: case 0xd1:
        break; // unreachable nop else return drop select ref.is_null
      case 0x0c: case 0x0d: case 0x10: case 0xd2:
      case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: case 0x25: case 0x26:
        r.uleb(); break; // br br_if call ref.func local.* global.* table.get/set: one index
      case 0x0e: { // br_table: vec(label) default
        const n = r.uleb();
        for (let i = 0; i <= n; i++) r.uleb();
        break;
      }
      case 0x11: r.uleb(); r.uleb(); break; // call_indirect type table
      case 0x1c: { // select t*
        const n = r.uleb();
        for (let i = 0; i < n; i++) if (!VALTYPES.has(r.u8())) r.fail('unknown type in select', r.pos - 1);
        break;
      }
      case 0x3f: case 0x40: r.uleb(); break; // memory.size/grow: memory index
      case 0x41: r.sleb(32); break;
      case 0x42: r.sleb(64); break;
      case 0x43: r.skip(4); break;
      case 0x44: r.skip(8); break;
      case 0xd0: { // ref.null heaptype
        const t = r.u8();
        if (t !== 0x70 && t !== 0x6f) r.fail(`unknown heap type ${hex(t)} in ref.null`, r.pos - 1);
        break;
      }
      default:
        if (op >= 0x28 && op <= 0x3e) { memarg(r); break; } // loads and stores
        if (op >= 0x45 && op <= 0xc4) break; // numeric, incl. sign extension
        r.fail(`unknown opcode ${hex(op)}`, at);
    }
  }
  if (r.pos !== r.end) r.fail(`the function's final end is followed by ${r.end - r.pos} more bytes of its body`);
}

/** 0xfd prefix: SIMD. Rewrites the prototype f32x4.fma. */
function simd(bytes, r, at, stats) {
  const opAt = r.pos;
  const op = r.uleb();
  stats.simdInstructions++;
  if (SIMD_PLAIN.has(op)) {
    if (op >= 0x100) stats.relaxedInstructions++;
    return;
  }
  if (SIMD_MEMARG.has(op)) { memarg(r); return; }
  if (SIMD_MEMARG_LANE.has(op)) { memarg(r); lane(r, SIMD_MEMARG_LANE.get(op)); return; }
  if (SIMD_LANE.has(op)) { lane(r, SIMD_LANE.get(op)); return; }
  if (op === 0x0c) { r.skip(16); return; } // v128.const
  if (op === 0x0d) { for (let i = 0; i < 16; i++) lane(r, 32); return; } // i8x16.shuffle
  const rw = REWRITES.get(op);
  if (rw) {
    // The rewrite keeps the module's layout only if the old opcode is the
    // canonical 2-byte LEB128 (0xaf 0x01) and the new one takes 2 bytes too.
    if (r.pos - opAt !== 2) r.fail(`${rw.from} encoded in ${r.pos - opAt} LEB128 bytes; only the canonical 2 can be rewritten in place`, at);
    bytes[opAt] = 0x80 | (rw.op & 0x7f);
    bytes[opAt + 1] = rw.op >> 7;
    stats.rewrites++;
    stats.relaxedInstructions++;
    return;
  }
  if (PRESTANDARD.has(op)) {
    r.fail(`prototype relaxed-SIMD opcode ${PRESTANDARD.get(op)} (0xfd ${hex(op)}) has no mapping here: `
      + 'only f32x4.fma -> f32x4.relaxed_madd is rewritten', at);
  }
  r.fail(`unknown SIMD opcode 0xfd ${hex(op)}`, at);
}

function lane(r, lanes) {
  const l = r.u8();
  if (l >= lanes) r.fail(`lane index ${l} out of range (< ${lanes})`, r.pos - 1);
}

/** 0xfc prefix: saturating truncation, bulk memory, table ops. */
function misc(r, at) {
  const op = r.uleb();
  if (op <= 7) return; // iNN.trunc_sat_fMM_s/u
  switch (op) {
    case 8: r.uleb(); r.uleb(); return; // memory.init data mem
    case 9: r.uleb(); return; // data.drop
    case 10: r.uleb(); r.uleb(); return; // memory.copy mem mem
    case 11: r.uleb(); return; // memory.fill mem
    case 12: r.uleb(); r.uleb(); return; // table.init elem table
    case 13: r.uleb(); return; // elem.drop
    case 14: r.uleb(); r.uleb(); return; // table.copy
    case 15: case 16: case 17: r.uleb(); return; // table.grow/size/fill
    default: r.fail(`unknown opcode 0xfc ${op}`, at);
  }
}

/** 0xfe prefix: threads (atomics), for a shared-memory build. */
function atomic(r, at) {
  const op = r.uleb();
  if (op <= 0x02 || (op >= 0x10 && op <= 0x4e)) { memarg(r); return; } // notify, wait32/64, loads, stores, rmw
  if (op === 0x03) { if (r.u8() !== 0) r.fail('atomic.fence takes a zero byte', r.pos - 1); return; }
  r.fail(`unknown opcode 0xfe ${hex(op)}`, at);
}

// ---- validation under relaxed SIMD ----

/** A function of three v128 locals doing f32x4.relaxed_madd: validates only where relaxed SIMD is on. */
export const RELAXED_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0,
  10, 16, 1, 14, 1, 3, 0x7b, 0x20, 0, 0x20, 1, 0x20, 2, 0xfd, 0x85, 0x02, 0x1a, 0x0b]);

export function relaxedSimdSupported() {
  try { return WebAssembly.validate(RELAXED_PROBE); } catch { return false; }
}

/** The node flag that turns relaxed SIMD on in Node 20 (on by default from V8 11.4). */
export const NODE_RELAXED_FLAG = '--experimental-wasm-relaxed-simd';

/**
 * WebAssembly.validate(file) under relaxed SIMD: here if this process has
 * it, else in a child node started with the flag. Returns { ok, where }.
 */
export function validateRelaxed(file) {
  if (relaxedSimdSupported()) return { ok: WebAssembly.validate(fs.readFileSync(file)), where: 'this process' };
  const script = 'const fs=require("fs");const ok=WebAssembly.validate(fs.readFileSync(process.argv[1]));'
    + `const p=WebAssembly.validate(new Uint8Array([${RELAXED_PROBE.join(',')}]));`
    + 'process.stdout.write(JSON.stringify({ok,p}))';
  const child = spawnSync(process.execPath, [NODE_RELAXED_FLAG, '-e', script, file], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`validation in a child node ${NODE_RELAXED_FLAG} failed: ${child.stderr.trim()}`);
  const { ok, p } = JSON.parse(child.stdout);
  if (!p) throw new Error(`node ${process.version} does not support relaxed SIMD even with ${NODE_RELAXED_FLAG}`);
  return { ok, where: `node ${NODE_RELAXED_FLAG}` };
}

// ---- command line ----

function main(argv) {
  if (argv.length !== 2 || argv.some((a) => a.startsWith('-'))) {
    process.stderr.write('usage: node tools/relax_simd.mjs IN.wasm OUT.wasm\n');
    return 2;
  }
  const [inFile, outFile] = argv;
  let res;
  try {
    res = relaxSimd(fs.readFileSync(inFile));
  } catch (err) {
    process.stderr.write(`relax_simd: ${inFile}: ${err.message}\n`);
    return 1;
  }
  // write next to the target, then rename: OUT is never half-written
  const tmp = path.join(path.dirname(outFile), `.${path.basename(outFile)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, res.bytes);
  let v;
  try {
    v = validateRelaxed(tmp);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    process.stderr.write(`relax_simd: ${err.message}\n`);
    return 1;
  }
  if (!v.ok) {
    fs.rmSync(tmp, { force: true });
    process.stderr.write(`relax_simd: ${inFile}: the rewritten module does not validate (${v.where})\n`);
    return 1;
  }
  fs.renameSync(tmp, outFile);
  const tf = res.targetFeatures ? `; target_features (left as is): ${res.targetFeatures.join(' ')}` : '';
  process.stdout.write(`relax_simd: ${outFile}: ${res.rewrites} f32x4.fma -> f32x4.relaxed_madd in ${res.functions} functions `
    + `(${res.instructions} instructions decoded, ${res.simdInstructions} SIMD); validates (${v.where})${tf}\n`);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
