// tools/relax_simd.mjs on a hand-assembled module: it rewrites exactly the
// prototype f32x4.fma opcodes (0xfd 0xaf 0x01 -> 0xfd 0x85 0x02), never the
// same bytes inside constants, walks every immediate kind the engine's
// modules can hold, refuses what it cannot decode, and the result validates
// and computes a*b + c under relaxed SIMD.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { relaxSimd, relaxedSimdSupported, NODE_RELAXED_FLAG } from '../tools/relax_simd.mjs';

const TOOL = fileURLToPath(new URL('../tools/relax_simd.mjs', import.meta.url));

// ---- a tiny assembler ----
const uleb = (n) => { const o = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; o.push(b); } while (n); return o; };
const sleb = (n) => {
  const o = [];
  let v = BigInt(n);
  for (;;) {
    const b = Number(v & 0x7fn); v >>= 7n;
    if ((v === 0n && !(b & 0x40)) || (v === -1n && (b & 0x40))) { o.push(b); return o; }
    o.push(b | 0x80);
  }
};
const vec = (items) => [...uleb(items.length), ...items.flat()];
const section = (id, bytes) => [id, ...uleb(bytes.length), ...bytes];
const f32 = (x) => [...new Uint8Array(new Float32Array([x]).buffer)];
const FMA_OLD = [0xfd, 0xaf, 0x01];
const FMA_NEW = [0xfd, 0x85, 0x02];

/** (f32, f32, f32) -> f32: f32x4.extract_lane 0 of old_fma(splat a, splat b, splat c). */
const MADD_BODY = [0, 0x20, 0, 0xfd, 0x13, 0x20, 1, 0xfd, 0x13, 0x20, 2, 0xfd, 0x13, ...FMA_OLD, 0xfd, 0x1f, 0, 0x0b];

/**
 * () -> (): every immediate kind: block types, br_if/br_table, if/else with a
 * result, i64/f32/f64 constants (the f32/f64 ones hold the fma byte pattern),
 * call, call_indirect, memargs with multi-byte offsets, memory.size/grow,
 * globals, 0xfc ops, typed select, ref.func/ref.null, and SIMD v128.const
 * (holding the pattern too), load/store, shuffle, load/store lane, extract and
 * replace lane, the old fma, a standard relaxed_madd (left alone).
 * Locals: 0, 1 v128; 2 i32; 3 f64.
 */
const SINK_INSTRUCTIONS = [
  0x02, 0x40,
  0x41, ...sleb(0x7fffffff), 0x0d, 0,
  0x03, 0x40, 0x0b,
  0x41, 1, 0x04, 0x7f, 0x41, 2, 0x05, 0x41, 3, 0x0b, 0x1a,
  0x42, ...sleb(-1e15), 0x1a,
  0x43, ...FMA_OLD, 0x00, 0x1a,
  0x44, ...FMA_OLD, ...FMA_OLD, 0, 0, 0x21, 3,
  0x41, 0, 0x10, 2, 0x1a,
  0x41, 5, 0x41, 0, 0x11, 2, 0, 0x1a,
  0x41, 0, 0x28, 2, 0, 0x22, 2, 0x1a,
  0x41, 0, 0x41, 7, 0x36, 2, ...uleb(128),
  0x3f, 0, 0x1a,
  0x41, 0, 0x40, 0, 0x1a,
  0x23, 0, 0x24, 0,
  0x41, 0, 0x41, 0, 0x41, 16, 0xfc, 10, 0, 0,
  0x41, 0, 0x41, 0, 0x41, 16, 0xfc, 11, 0,
  0x43, ...f32(1.5), 0xfc, 0, 0x1a,
  0x41, 1, 0x41, 2, 0x41, 1, 0x1c, 1, 0x7f, 0x1a,
  0xd2, 2, 0x1a,
  0xd0, 0x70, 0xd1, 0x1a,
  0xfd, 0x0c, ...FMA_OLD, ...FMA_OLD, ...FMA_OLD, ...FMA_OLD, ...FMA_OLD, 0, 0x21, 0,
  0x41, 0, 0xfd, 0x00, 4, 0, 0x21, 1,
  0x20, 0, 0x20, 1, 0xfd, 0x0d, 31, 0, 17, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 30, 0x21, 0,
  0x41, 0, 0xfd, 0x09, 2, 0, 0x21, 1,
  0x41, 0, 0x20, 0, 0xfd, 0x56, 2, 0, 3, 0x21, 0,
  0x41, 0, 0x20, 0, 0xfd, 0x5a, 2, 0, 1,
  0x20, 0, 0xfd, 0x15, 15, 0x1a,
  0x20, 0, 0x43, ...f32(2), 0xfd, 0x20, 2, 0x21, 0,
  0x20, 0, 0x20, 1, 0x20, 0, ...FMA_OLD, 0x21, 0,
  0x20, 0, 0x20, 1, 0xfd, ...uleb(0xe4), 0x21, 1,
  0x20, 0, 0x20, 1, 0x20, 0, ...FMA_NEW, 0x21, 0,
  0x41, 0, 0x20, 0, 0xfd, 0x0b, 4, 0,
  0x41, 0, 0x0e, 2, 0, 0, 0,
  0x0b,
  0x0b,
];
const SINK_LOCALS = vec([[2, 0x7b], [1, 0x7f], [1, 0x7c]]);

function moduleWith(sinkInstructions = SINK_INSTRUCTIONS, { maddBody = MADD_BODY } = {}) {
  const body = (bytes) => [...uleb(bytes.length), ...bytes];
  const types = vec([[0x60, ...vec([[0x7d], [0x7d], [0x7d]]), ...vec([[0x7d]])], [0x60, 0, 0], [0x60, 1, 0x7f, 1, 0x7f]]);
  return new Uint8Array([
    0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, types),
    ...section(3, vec([[0], [1], [2]])),
    ...section(4, vec([[0x70, 0, 1]])), // funcref table, min 1
    ...section(5, vec([[0, 1]])), // memory, min 1 page
    ...section(6, vec([[0x7f, 1, 0x41, 0, 0x0b]])), // mutable i32 global = 0
    ...section(7, vec([[...vec([...'madd'].map((c) => c.charCodeAt(0))), 0, 0], [...vec([...'sink'].map((c) => c.charCodeAt(0))), 0, 1]])),
    ...section(9, vec([[0, 0x41, 0, 0x0b, ...vec([[2]])]])), // table[0] = function 2
    ...section(10, vec([body(maddBody), body([...SINK_LOCALS, ...sinkInstructions]), body([0, 0x20, 0, 0x41, 1, 0x6a, 0x0b])])),
    ...section(0, [...vec([...'note'].map((c) => c.charCodeAt(0))), ...FMA_OLD]), // a custom section holding the pattern
  ]);
}

function countPattern(bytes, pat) {
  let n = 0;
  for (let i = 0; i + pat.length <= bytes.length; i++) if (pat.every((b, k) => bytes[i + k] === b)) n++;
  return n;
}

/** Runs `code` (ESM, gets the module bytes as `bytes`) where relaxed SIMD is on; returns its JSON output. */
function underRelaxed(bytes, code) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-relax-'));
  try {
    const file = path.join(dir, 'm.wasm');
    fs.writeFileSync(file, bytes);
    const script = `import fs from 'node:fs'; const bytes = fs.readFileSync(${JSON.stringify(file)}); ${code}`;
    const args = relaxedSimdSupported() ? [] : [NODE_RELAXED_FLAG];
    const r = spawnSync(process.execPath, [...args, '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('the hand-made module is what the test thinks: valid once rewritten, rejected before', () => {
  const input = moduleWith();
  // the prototype opcode is refused by every engine that knows relaxed SIMD
  assert.equal(WebAssembly.validate(input), false);
  const out = underRelaxed(input, 'process.stdout.write(JSON.stringify(WebAssembly.validate(bytes)))');
  assert.equal(out, false, 'the prototype opcode does not validate even under relaxed SIMD');
});

test('rewrites exactly the two f32x4.fma opcodes, not the look-alike bytes in constants', () => {
  const input = moduleWith();
  const before = Uint8Array.from(input);
  const decoys = countPattern(input, FMA_OLD) - 2;
  assert.ok(decoys >= 8, `the module holds ${decoys} look-alike byte runs`);
  const res = relaxSimd(input);
  assert.deepEqual(input, before, 'the input is not modified');
  assert.equal(res.rewrites, 2);
  assert.equal(res.relaxedInstructions, 3, 'two rewritten + the standard one already there');
  assert.equal(res.functions, 3);
  assert.ok(res.instructions > 100, `${res.instructions} instructions decoded`);
  assert.equal(res.bytes.length, input.length, 'same length');
  const changed = [...res.bytes.keys()].filter((i) => res.bytes[i] !== input[i]);
  assert.equal(changed.length, 4, 'two bytes per rewrite');
  for (let k = 0; k < 4; k += 2) {
    const i = changed[k];
    assert.deepEqual([...input.subarray(i - 1, i + 2)], FMA_OLD);
    assert.deepEqual([...res.bytes.subarray(i - 1, i + 2)], FMA_NEW);
    assert.equal(changed[k + 1], i + 1);
  }
  assert.equal(countPattern(res.bytes, FMA_OLD), decoys, 'every look-alike is left as it was');
  assert.equal(res.targetFeatures, null);
});

test('the rewritten module validates under relaxed SIMD and computes a*b + c', () => {
  const { bytes } = relaxSimd(moduleWith());
  const out = underRelaxed(bytes, `
    const ok = WebAssembly.validate(bytes);
    const { instance } = await WebAssembly.instantiate(bytes);
    instance.exports.sink();
    process.stdout.write(JSON.stringify({ ok, madd: instance.exports.madd(2, 3, 5), neg: instance.exports.madd(-1.5, 4, 0.25) }));`);
  assert.equal(out.ok, true);
  // standard relaxed_madd(a, b, c) = a*b + c; the prototype's a + b*c would give 17 and -1.5 + 1 = -0.5
  assert.equal(out.madd, 11);
  assert.equal(out.neg, -5.75);
});

test('refuses what it cannot decode or map, rather than guessing', () => {
  const sink = (...instrs) => [...instrs, 0x0b];
  const cases = [
    [sink(0x06, 0x40, 0x0b), /unknown opcode 0x06/], // legacy exception handling: try
    [sink(0xfd, 0x9a, 0x01), /unknown SIMD opcode 0xfd 0x9a/], // an unassigned SIMD opcode
    [sink(0x20, 0, 0x20, 0, 0x20, 0, 0xfd, 0xb0, 0x01, 0x21, 0), /f32x4\.fms.*no mapping/], // another prototype op
    [sink(0x20, 0, 0x20, 0, 0x20, 0, 0xfd, 0xaf, 0x81, 0x00, 0x21, 0), /canonical/], // over-long LEB128 opcode
    [sink(0xfc, 40), /unknown opcode 0xfc 40/],
    [sink(0x20, 0, 0xfd, 0x15, 16, 0x1a), /lane index 16 out of range/],
    [[0x41, 0], /unexpected end/], // the body ends inside the function (no final end)
    [sink(0x01, 0x0b, 0x01), /followed by 2 more bytes/], // bytes after the function's end
    [sink(0x41, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x1a), /s32 LEB128 longer than 5 bytes/],
  ];
  for (const [instrs, re] of cases) {
    assert.throws(() => relaxSimd(moduleWith(instrs)), re, `case ${re}`);
  }
  assert.throws(() => relaxSimd(moduleWith(sink(0x01), { maddBody: [0, 0x43, ...f32(0), 0x0b] })), /nothing to rewrite/);
  assert.throws(() => relaxSimd(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])), /not a WebAssembly module/);
  const truncated = moduleWith().subarray(0, 60);
  assert.throws(() => relaxSimd(truncated), /runs past the end/);
});

test('reports a target_features section without changing it', () => {
  const name = [...'target_features'].map((c) => c.charCodeAt(0));
  const feat = (s) => [0x2b, ...vec([...s].map((c) => c.charCodeAt(0)))];
  const tf = section(0, [...vec(name), ...vec([feat('simd128'), feat('relaxed-simd')])]);
  const input = new Uint8Array([...moduleWith(), ...tf]);
  const res = relaxSimd(input);
  assert.deepEqual(res.targetFeatures, ['+simd128', '+relaxed-simd']);
  assert.deepEqual([...res.bytes.subarray(input.length - tf.length)], tf);
});

test('command line: writes a validated module, or nothing and exit 1', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-relax-cli-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const inFile = path.join(dir, 'in.wasm'), outFile = path.join(dir, 'out.wasm');
  fs.writeFileSync(inFile, moduleWith());
  const ok = spawnSync(process.execPath, [TOOL, inFile, outFile], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /2 f32x4\.fma -> f32x4\.relaxed_madd in 3 functions/);
  assert.deepEqual(new Uint8Array(fs.readFileSync(outFile)), relaxSimd(moduleWith()).bytes);

  fs.rmSync(outFile);
  fs.writeFileSync(inFile, moduleWith([0xfd, 0x9a, 0x01, 0x0b]));
  const bad = spawnSync(process.execPath, [TOOL, inFile, outFile], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /unknown SIMD opcode/);
  assert.equal(fs.existsSync(outFile), false);
  assert.deepEqual(fs.readdirSync(dir), ['in.wasm'], 'no temporary file left');

  const usage = spawnSync(process.execPath, [TOOL], { encoding: 'utf8' });
  assert.equal(usage.status, 2);
});

test('the engine builds: dist/sentence-wasm-relaxed.wasm has no prototype opcode left, the plain build no relaxed one', () => {
  const dist = fileURLToPath(new URL('../dist/', import.meta.url));
  const relaxed = fs.readFileSync(path.join(dist, 'sentence-wasm-relaxed.wasm'));
  // Decoding it again finds nothing to rewrite: every f32x4.fma became relaxed_madd.
  assert.throws(() => relaxSimd(relaxed), /nothing to rewrite/);
  const r = relaxSimd(relaxed, { requireRewrites: false });
  assert.equal(r.rewrites, 0);
  assert.ok(r.relaxedInstructions >= 50, `${r.relaxedInstructions} relaxed_madd in the relaxed build`);
  const v = underRelaxed(relaxed, 'process.stdout.write(JSON.stringify(WebAssembly.validate(bytes)))');
  assert.equal(v, true);
  const plain = fs.readFileSync(path.join(dist, 'sentence-wasm.wasm'));
  assert.equal(WebAssembly.validate(plain), true);
  const p = relaxSimd(plain, { requireRewrites: false });
  assert.equal(p.rewrites + p.relaxedInstructions, 0, 'the plain build has no relaxed SIMD');
  for (const f of ['sentence-wasm.wasm', 'sentence-wasm-relaxed.wasm']) {
    const size = fs.statSync(path.join(dist, f)).size;
    assert.ok(size <= 400 * 1024, `${f}: ${size} bytes`);
  }
});
