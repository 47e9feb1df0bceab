// The malformed-model corpus: broken copies of the tests/fixtures/st-mean
// model folder, one defect each, with the SentenceWasmError code and the
// message pattern SentenceTransformer.load must reject it with. Nothing here
// is committed as binary: every folder is generated from the fixture.
//
//   import { CASES, buildCase } from './malformed/make_corpus.js';
//   const dir = buildCase(CASES[0], os.tmpdir());     // one folder
//
//   node tests/malformed/make_corpus.js <out-dir>      // every folder + manifest.json
//
// Each case: { name, code, message (RegExp the message must match), build(dir) }
// where build edits the fresh copy in `dir`.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SOURCE_FIXTURE = path.join(HERE, '..', 'fixtures', 'st-mean');

/** The files of st-mean a load reads (not its reference outputs or README). */
const MODEL_FILES = ['config.json', 'config_sentence_transformers.json', 'modules.json', 'sentence_bert_config.json',
  'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors', '1_Pooling/config.json'];

// ---- file edits ----

const ST = 'model.safetensors';

function readJson(dir, file) { return JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')); }
function writeText(dir, file, text) { fs.writeFileSync(path.join(dir, file), text); }
function editJson(dir, file, fn) {
  const j = readJson(dir, file);
  writeText(dir, file, JSON.stringify(fn(j) ?? j));
}

/** { headerText, header, data } of the folder's safetensors file. */
function readSt(dir) {
  const buf = fs.readFileSync(path.join(dir, ST));
  const n = Number(buf.readBigUInt64LE(0));
  const headerText = buf.subarray(8, 8 + n).toString('utf8');
  return { headerText, header: JSON.parse(headerText), data: buf.subarray(8 + n) };
}

/** Writes a safetensors file from header bytes (as given), an optional length override, and data. */
function writeStRaw(dir, headerBytes, data, length = BigInt(headerBytes.length)) {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt.asUintN(64, length));
  fs.writeFileSync(path.join(dir, ST), Buffer.concat([len, Buffer.from(headerBytes), data]));
}

/** Rewrites the header object with fn(header) (data unchanged). */
function editHeader(dir, fn) {
  const { header, data } = readSt(dir);
  writeStRaw(dir, Buffer.from(JSON.stringify(fn(header) ?? header), 'utf8'), data);
}

/** Sets the u64 header length field to `n`, leaving everything else. */
function setHeaderLength(dir, n) {
  const buf = fs.readFileSync(path.join(dir, ST));
  buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(n)), 0);
  fs.writeFileSync(path.join(dir, ST), buf);
}

/** Keeps the first `n` bytes of the safetensors file. */
function truncateSt(dir, n) {
  const buf = fs.readFileSync(path.join(dir, ST));
  fs.writeFileSync(path.join(dir, ST), buf.subarray(0, n));
}

/** Points tensor `name` at `bytes` new zero bytes appended to the data (dtype/shape as given). */
function retype(dir, name, dtype, shape, bytes) {
  const { header, data } = readSt(dir);
  header[name] = { dtype, shape, data_offsets: [data.length, data.length + bytes] };
  writeStRaw(dir, Buffer.from(JSON.stringify(header), 'utf8'), Buffer.concat([data, Buffer.alloc(bytes)]));
}

const LN_BIAS = 'embeddings.LayerNorm.bias'; // F32 [32], bytes [0, 128)
const WORD_EMB = 'embeddings.word_embeddings.weight'; // F32 [30522, 32]

// ---- the corpus ----

/** @type {{ name: string, code: string, message: RegExp, build: (dir: string) => void }[]} */
export const CASES = [
  // -- safetensors: the file and its length field
  { name: 'st-empty-file', code: 'BAD_SAFETENSORS', message: /model\.safetensors.*0 bytes, too short/,
    build: (d) => truncateSt(d, 0) },
  { name: 'st-truncated-in-length-field', code: 'BAD_SAFETENSORS', message: /model\.safetensors.*7 bytes, too short/,
    build: (d) => truncateSt(d, 7) },
  { name: 'st-truncated-in-header', code: 'BAD_SAFETENSORS', message: /model\.safetensors.*header length \d+ runs past the end of the file/,
    build: (d) => truncateSt(d, 8 + 2000) },
  { name: 'st-truncated-in-data', code: 'BAD_SAFETENSORS', message: /model\.safetensors.*run past the end of the data section/,
    build: (d) => truncateSt(d, fs.statSync(path.join(d, ST)).size - 1) },
  { name: 'st-header-length-beyond-file', code: 'BAD_SAFETENSORS', message: /header length \d+ runs past the end of the file/,
    build: (d) => setHeaderLength(d, fs.statSync(path.join(d, ST)).size) },
  { name: 'st-header-length-0', code: 'BAD_SAFETENSORS', message: /header length 0 is too small/,
    build: (d) => setHeaderLength(d, 0) },
  { name: 'st-header-length-2^64-1', code: 'BAD_SAFETENSORS', message: /header length 18446744073709551615 exceeds the 100000000-byte limit/,
    build: (d) => setHeaderLength(d, 2n ** 64n - 1n) },
  { name: 'st-header-claims-100MB', code: 'BAD_SAFETENSORS', message: /header length 100000000 runs past the end of the file/,
    build: (d) => setHeaderLength(d, 100_000_000) },
  { name: 'st-header-claims-100MB-plus-1', code: 'BAD_SAFETENSORS', message: /header length 100000001 exceeds the 100000000-byte limit/,
    build: (d) => setHeaderLength(d, 100_000_001) },
  // -- safetensors: the header text
  { name: 'st-header-not-json', code: 'BAD_SAFETENSORS', message: /header is not valid JSON/,
    build: (d) => writeStRaw(d, Buffer.from('this is not JSON at all'), readSt(d).data) },
  { name: 'st-header-json-array', code: 'BAD_SAFETENSORS', message: /header must be a JSON object, got an array/,
    build: (d) => writeStRaw(d, Buffer.from('[{"dtype":"F32"}]'), readSt(d).data) },
  { name: 'st-header-json-null', code: 'BAD_SAFETENSORS', message: /header must be a JSON object, got null/,
    build: (d) => writeStRaw(d, Buffer.from('null'), readSt(d).data) },
  { name: 'st-header-invalid-utf8', code: 'BAD_SAFETENSORS', message: /header is not valid UTF-8/,
    build: (d) => {
      const { headerText, data } = readSt(d);
      const bytes = Buffer.from(headerText, 'utf8');
      bytes[bytes.indexOf('LayerNorm')] = 0xff;
      writeStRaw(d, bytes, data);
    } },
  { name: 'st-header-with-bom', code: 'BAD_SAFETENSORS', message: /header is not valid JSON/,
    build: (d) => { const { headerText, data } = readSt(d); writeStRaw(d, Buffer.from(`\ufeff${headerText}`, 'utf8'), data); } },
  { name: 'st-tensor-entry-not-object', code: 'BAD_SAFETENSORS', message: /embeddings\.LayerNorm\.bias.*entry must be an object, got a number/,
    build: (d) => editHeader(d, (h) => { h[LN_BIAS] = 5; }) },
  // -- safetensors: dtypes
  { name: 'st-unknown-dtype', code: 'BAD_SAFETENSORS', message: /embeddings\.LayerNorm\.bias.*unknown dtype "Q4_K"/,
    build: (d) => editHeader(d, (h) => { h[LN_BIAS].dtype = 'Q4_K'; }) },
  { name: 'st-dtype-not-a-string', code: 'BAD_SAFETENSORS', message: /unknown dtype 7/,
    build: (d) => editHeader(d, (h) => { h[LN_BIAS].dtype = 7; }) },
  { name: 'st-dtype-prototype-name', code: 'BAD_SAFETENSORS', message: /unknown dtype "constructor"/,
    build: (d) => editHeader(d, (h) => { h[LN_BIAS].dtype = 'constructor'; }) },
  { name: 'st-dtype-f64-unusable', code: 'BAD_SAFETENSORS', message: /embeddings\.LayerNorm\.bias.*F64.*F32, F16 and BF16/,
    build: (d) => retype(d, LN_BIAS, 'F64', [32], 256) },
  // -- safetensors: shapes
  { name: 'st-shape-negative', code: 'BAD_SAFETENSORS', message: /embeddings\.LayerNorm\.bias.*shape \[-32\] has -32, not a non-negative integer/,
    build: (d) => editHeader(d, (h) => { h[LN_BIAS].shape = [-32]; }) },
  { name: 'st-shape-non-integer', code: 'BAD_SAFETENSORS', message: /shape \[32\.5\] has 32\.5, not a non-negative integer/,
    build: (d) => editHeader(d, (h) => { h[LN_BIAS].shape = [32.5]; }) },
  { name: 'st-shape-string-dim', code: 'BAD_SAFETENSORS', message: /shape \["32"\] has "32", not a non-negative integer/,
    build: (d) => editHeader(d, (h) => { h[LN_BIAS].shape = ['32']; }) },
  { name: 'st-shape-not-array', code: 'BAD_SAFETENSORS', message: /"shape" must be an array, got a string/,
    build: (d) => editHeader(d, (h) => { h[LN_BIAS].shape = '32'; }) },
  { name: 'st-shape-unsafe-integer', code: 'BAD_SAFETENSORS', message: /shape \[9007199254740992\] has 9007199254740992, not a non-negative integer/,
    build: (d) => editHeader(d, (h) => { h[LN_BIAS].shape = [2 ** 53]; }) },
  { name: 'st-shape-overflowing-product', code: 'BAD_SAFETENSORS', message: /shape \[4294967296,4294967296,4294967296\] has too many elements/,
    build: (d) => editHeader(d, (h) => { h[LN_BIAS].shape = [2 ** 32, 2 ** 32, 2 ** 32]; }) },
  { name: 'st-shape-bytes-mismatch', code: 'BAD_SAFETENSORS', message: /data_offsets \[0,128\] span 128 bytes, but shape \[16\] of F32 needs 64/,
    build: (d) => editHeader(d, (h) => { h[LN_BIAS].shape = [16]; }) },
  { name: 'st-shape-wrong-for-config', code: 'BAD_SAFETENSORS', message: /embeddings\.word_embeddings\.weight.*\[15261, 64\].*\[30522, 32\]/,
    build: (d) => editHeader(d, (h) => { h[WORD_EMB].shape = [15261, 64]; }) },
  { name: 'st-ndim-wrong-for-config', code: 'BAD_SAFETENSORS', message: /embeddings\.LayerNorm\.bias.*2 dimensions, expected 1/,
    build: (d) => editHeader(d, (h) => { h[LN_BIAS].shape = [1, 32]; }) },
  // -- safetensors: offsets
  { name: 'st-offsets-beyond-end', code: 'BAD_SAFETENSORS', message: /run past the end of the data section/,
    build: (d) => editHeader(d, (h) => {
      const last = Object.values(h).filter((t) => t.data_offsets).sort((a, b) => b.data_offsets[1] - a.data_offsets[1])[0];
      last.data_offsets = [last.data_offsets[0] + 4, last.data_offsets[1] + 4];
    }) },
  { name: 'st-offsets-negative', code: 'BAD_SAFETENSORS', message: /data_offsets \[-4,124\] must be non-negative integers/,
    build: (d) => editHeader(d, (h) => { h[LN_BIAS].data_offsets = [-4, 124]; }) },
  { name: 'st-offsets-reversed', code: 'BAD_SAFETENSORS', message: /data_offsets \[128,0\] has begin > end/,
    build: (d) => editHeader(d, (h) => { h[LN_BIAS].data_offsets = [128, 0]; }) },
  { name: 'st-offsets-not-a-pair', code: 'BAD_SAFETENSORS', message: /"data_offsets" must be \[begin, end\], got \[0\]/,
    build: (d) => editHeader(d, (h) => { h[LN_BIAS].data_offsets = [0]; }) },
  { name: 'st-offsets-overlapping', code: 'BAD_SAFETENSORS', message: /overlaps tensor/,
    build: (d) => editHeader(d, (h) => { h['embeddings.LayerNorm.weight'].data_offsets = [64, 192]; }) },
  // -- safetensors: names and metadata
  { name: 'st-duplicate-tensor-name', code: 'BAD_SAFETENSORS', message: /embeddings\.LayerNorm\.bias.*duplicate tensor name/,
    build: (d) => {
      const { headerText, data } = readSt(d);
      const dup = `"${LN_BIAS}":{"dtype":"F32","shape":[32],"data_offsets":[0,128]},`;
      writeStRaw(d, Buffer.from(`{${dup}${headerText.trimEnd().slice(1)}`, 'utf8'), data);
    } },
  { name: 'st-duplicate-metadata', code: 'BAD_SAFETENSORS', message: /"__metadata__" appears more than once/,
    build: (d) => {
      const { headerText, data } = readSt(d);
      writeStRaw(d, Buffer.from(`{"__metadata__":{"format":"pt"},${headerText.trimEnd().slice(1)}`, 'utf8'), data);
    } },
  { name: 'st-metadata-not-strings', code: 'BAD_SAFETENSORS', message: /"__metadata__" entry "format" must be a string, got a number/,
    build: (d) => editHeader(d, (h) => { h.__metadata__ = { format: 1 }; }) },
  { name: 'st-missing-tensor', code: 'BAD_SAFETENSORS', message: /embeddings\.word_embeddings\.weight.*missing/,
    build: (d) => editHeader(d, (h) => { delete h[WORD_EMB]; }) },
  // -- config.json
  { name: 'config-hidden-not-divisible-by-heads', code: 'BAD_CONFIG', message: /hidden_size 32 is not divisible by num_attention_heads 3/,
    build: (d) => editJson(d, 'config.json', (c) => { c.num_attention_heads = 3; }) },
  { name: 'config-vocab-1e9', code: 'BAD_CONFIG', message: /config\.json.*"vocab_size" must be an integer in \[1, 4194304\], got 1000000000/,
    build: (d) => editJson(d, 'config.json', (c) => { c.vocab_size = 1e9; }) },
  { name: 'config-hidden-2^31', code: 'BAD_CONFIG', message: /"hidden_size" must be an integer in \[1, 16384\], got 2147483648/,
    build: (d) => editJson(d, 'config.json', (c) => { c.hidden_size = 2 ** 31; }) },
  { name: 'config-layers-1e6', code: 'BAD_CONFIG', message: /"num_hidden_layers" must be an integer in \[1, 256\], got 1000000/,
    build: (d) => editJson(d, 'config.json', (c) => { c.num_hidden_layers = 1e6; }) },
  { name: 'config-intermediate-negative', code: 'BAD_CONFIG', message: /"intermediate_size" must be an integer .* got -64/,
    build: (d) => editJson(d, 'config.json', (c) => { c.intermediate_size = -64; }) },
  { name: 'config-max-position-fraction', code: 'BAD_CONFIG', message: /"max_position_embeddings" must be an integer .* got 512\.5/,
    build: (d) => editJson(d, 'config.json', (c) => { c.max_position_embeddings = 512.5; }) },
  { name: 'config-vocab-as-string', code: 'BAD_CONFIG', message: /"vocab_size" must be an integer .* got "30522"/,
    build: (d) => editJson(d, 'config.json', (c) => { c.vocab_size = '30522'; }) },
  { name: 'config-tensors-above-2GiB', code: 'BAD_CONFIG', message: /vocab_size x hidden_size .* too large/,
    build: (d) => {
      editJson(d, 'config.json', (c) => { c.vocab_size = 4194304; c.hidden_size = 16384; c.num_attention_heads = 16; });
      editJson(d, '1_Pooling/config.json', (p) => { p.word_embedding_dimension = 16384; });
    } },
  { name: 'config-not-json', code: 'BAD_CONFIG', message: /config\.json.*invalid JSON/,
    build: (d) => writeText(d, 'config.json', '{"hidden_size": 32,') },
  { name: 'config-not-an-object', code: 'BAD_CONFIG', message: /config\.json: expected a JSON object/,
    build: (d) => writeText(d, 'config.json', '[32, 4, 2]') },
  { name: 'config-unknown-model-type', code: 'UNSUPPORTED_ARCHITECTURE', message: /model_type "gpt2" is not supported/,
    build: (d) => editJson(d, 'config.json', (c) => { c.model_type = 'gpt2'; }) },
  // -- modules.json and module configs
  { name: 'modules-path-climbs-out', code: 'BAD_CONFIG', message: /"1_Pooling\/\.\.\/\.\.\/x\/config\.json" has a "\.\." segment/,
    build: (d) => editJson(d, 'modules.json', (m) => { m[1].path = '1_Pooling/../../x'; }) },
  { name: 'modules-path-absolute', code: 'BAD_CONFIG', message: /"\/etc\/config\.json" is absolute/,
    build: (d) => editJson(d, 'modules.json', (m) => { m[1].path = '/etc'; }) },
  { name: 'modules-not-an-array', code: 'BAD_CONFIG', message: /modules\.json: expected a non-empty array/,
    build: (d) => writeText(d, 'modules.json', '{"0": "Transformer"}') },
  { name: 'modules-unknown-module', code: 'UNSUPPORTED_ARCHITECTURE', message: /module type "sentence_transformers\.models\.LSTM" is not supported/,
    build: (d) => editJson(d, 'modules.json', (m) => { m[1].type = 'sentence_transformers.models.LSTM'; }) },
  { name: 'pooling-no-mode', code: 'BAD_CONFIG', message: /1_Pooling\/config\.json: no pooling mode is enabled/,
    build: (d) => editJson(d, '1_Pooling/config.json', (p) => { p.pooling_mode_mean_tokens = false; }) },
  { name: 'pooling-dimension-mismatch', code: 'BAD_CONFIG', message: /word_embedding_dimension 64 does not match the transformer's hidden_size 32/,
    build: (d) => editJson(d, '1_Pooling/config.json', (p) => { p.word_embedding_dimension = 64; }) },
  { name: 'st-config-unknown-similarity', code: 'BAD_CONFIG', message: /similarity_fn_name "cosine_x" is not one of/,
    build: (d) => editJson(d, 'config_sentence_transformers.json', (c) => { c.similarity_fn_name = 'cosine_x'; }) },
  { name: 'sbert-config-max-seq-negative', code: 'BAD_CONFIG', message: /"max_seq_length" must be a positive integer/,
    build: (d) => editJson(d, 'sentence_bert_config.json', (c) => { c.max_seq_length = -1; }) },
  // -- tokenizer.json
  { name: 'tokenizer-missing-vocab', code: 'BAD_TOKENIZER', message: /tokenizer\.json: model\.vocab is missing/,
    build: (d) => editJson(d, 'tokenizer.json', (t) => { delete t.model.vocab; }) },
  { name: 'tokenizer-unknown-model-type', code: 'BAD_TOKENIZER', message: /model\.type "Bogus" is not supported \(WordPiece only\)/,
    build: (d) => editJson(d, 'tokenizer.json', (t) => { t.model.type = 'Bogus'; }) },
  { name: 'tokenizer-ids-beyond-embeddings', code: 'BAD_TOKENIZER', message: /token "zzzfar" has id 30522, beyond the 30522 rows of the embedding matrix/,
    build: (d) => editJson(d, 'tokenizer.json', (t) => { t.model.vocab.zzzfar = 30522; }) },
  { name: 'tokenizer-added-token-beyond-embeddings', code: 'BAD_TOKENIZER', message: /token "<extra>" has id 99999, beyond the 30522 rows/,
    build: (d) => editJson(d, 'tokenizer.json', (t) => {
      t.added_tokens.push({ id: 99999, content: '<extra>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
    }) },
  { name: 'tokenizer-vocab-id-negative', code: 'BAD_TOKENIZER', message: /model\.vocab\["\[MASK\]"\] must be a non-negative integer id \(got -5\)/,
    build: (d) => editJson(d, 'tokenizer.json', (t) => { t.model.vocab['[MASK]'] = -5; }) },
  { name: 'tokenizer-unk-not-in-vocab', code: 'BAD_TOKENIZER', message: /model\.unk_token "<unk>" is not in model\.vocab/,
    build: (d) => editJson(d, 'tokenizer.json', (t) => { t.model.unk_token = '<unk>'; }) },
  { name: 'tokenizer-not-json', code: 'BAD_TOKENIZER', message: /tokenizer\.json: not valid JSON/,
    build: (d) => writeText(d, 'tokenizer.json', '{"model": {"type": "WordPiece"') },
  { name: 'tokenizer-unknown-normalizer', code: 'BAD_TOKENIZER', message: /normalizer\.type "Precompiled" is not supported/,
    build: (d) => editJson(d, 'tokenizer.json', (t) => { t.normalizer = { type: 'Precompiled', precompiled_charsmap: 'AAAA' }; }) },
];

/** Copies the fixture's model files into `root/<case name>` and applies the case's defect. */
export function buildCase(c, root) {
  const dir = path.join(root, c.name);
  fs.mkdirSync(path.join(dir, '1_Pooling'), { recursive: true });
  for (const f of MODEL_FILES) fs.copyFileSync(path.join(SOURCE_FIXTURE, f), path.join(dir, f));
  c.build(dir);
  return dir;
}

/** Every case under `root`; returns the manifest [{ name, dir, code, message }]. */
export function buildCorpus(root) {
  return CASES.map((c) => ({ name: c.name, dir: buildCase(c, root), code: c.code, message: String(c.message) }));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: node tests/malformed/make_corpus.js <out-dir>');
    process.exit(2);
  }
  fs.mkdirSync(out, { recursive: true });
  const manifest = buildCorpus(out);
  fs.writeFileSync(path.join(out, 'manifest.json'), JSON.stringify(manifest, null, 2));
  console.log(`${manifest.length} malformed model folders in ${out} (see manifest.json)`);
}
