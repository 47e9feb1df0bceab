#!/usr/bin/env node
// Writes the W6 model: a SparseEncoder (MLMTransformer + SpladePooling) of the
// MiniLM-L6 shape with a 30,522-word MLM head, next to the peer's models.
// The encoder weights are those of make_model.py's `embed` model, renamed to
// BertForMaskedLM's "bert." names; the MLM head (transform dense, LayerNorm,
// output bias; decoder tied to the word embeddings) is random, seeded, like
// the rest. Speed is all this model is for: its vectors mean nothing.
//
//   node bench/make_splade_model.mjs [MODEL_DIR]     (default /tmp/peer-model)
//   -> MODEL_DIR/splade/
import fs from 'node:fs';
import path from 'node:path';

const root = process.argv[2] || '/tmp/peer-model';
const src = path.join(root, 'embed');
const dst = path.join(root, 'splade');
if (!fs.existsSync(path.join(src, 'model.safetensors'))) {
  console.error(`make_splade_model: ${src}/model.safetensors is missing: run bench/make_models.sh first`);
  process.exit(1);
}
if (fs.existsSync(path.join(dst, 'model.safetensors'))) process.exit(0); // already made

// mulberry32: a small seeded PRNG, so the model is the same on every machine
let seed = 20240603;
const rand = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const normal = (std) => std * Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
const filled = (n, f) => { const a = new Float32Array(n); for (let i = 0; i < n; i++) a[i] = f(); return a; };

const buf = fs.readFileSync(path.join(src, 'model.safetensors'));
const hlen = Number(buf.readBigUInt64LE(0));
const header = JSON.parse(buf.subarray(8, 8 + hlen).toString('utf8'));
const data = buf.subarray(8 + hlen);
const cfg = JSON.parse(fs.readFileSync(path.join(src, 'config.json'), 'utf8'));
const H = cfg.hidden_size, V = cfg.vocab_size;

const tensors = [];
for (const [name, t] of Object.entries(header)) {
  if (name === '__metadata__' || name.startsWith('pooler.')) continue;
  tensors.push({ name: `bert.${name}`, shape: t.shape, bytes: data.subarray(t.data_offsets[0], t.data_offsets[1]) });
}
const add = (name, shape, arr) => tensors.push({ name, shape, bytes: Buffer.from(arr.buffer) });
add('cls.predictions.transform.dense.weight', [H, H], filled(H * H, () => normal(0.02)));
add('cls.predictions.transform.dense.bias', [H], filled(H, () => normal(0.02)));
add('cls.predictions.transform.LayerNorm.weight', [H], filled(H, () => 1 + normal(0.05)));
add('cls.predictions.transform.LayerNorm.bias', [H], filled(H, () => normal(0.02)));
add('cls.predictions.bias', [V], filled(V, () => normal(0.02)));

const out = {};
let off = 0;
for (const t of tensors) {
  out[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [off, off + t.bytes.length] };
  off += t.bytes.length;
}
let json = Buffer.from(JSON.stringify(out), 'utf8');
json = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 0x20)]); // 8-byte aligned data
const len = Buffer.alloc(8);
len.writeBigUInt64LE(BigInt(json.length));

fs.mkdirSync(path.join(dst, '1_SpladePooling'), { recursive: true });
fs.writeFileSync(path.join(dst, 'model.safetensors'), Buffer.concat([len, json, ...tensors.map((t) => t.bytes)]));
fs.writeFileSync(path.join(dst, 'config.json'), JSON.stringify({ ...cfg, architectures: ['BertForMaskedLM'] }, null, 2));
for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt', 'sentence_bert_config.json']) {
  if (fs.existsSync(path.join(src, f))) fs.copyFileSync(path.join(src, f), path.join(dst, f));
}
fs.writeFileSync(path.join(dst, 'modules.json'), JSON.stringify([
  { idx: 0, name: '0', path: '', type: 'sentence_transformers.sparse_encoder.models.MLMTransformer' },
  { idx: 1, name: '1', path: '1_SpladePooling', type: 'sentence_transformers.sparse_encoder.models.SpladePooling' },
], null, 2));
fs.writeFileSync(path.join(dst, '1_SpladePooling', 'config.json'),
  JSON.stringify({ pooling_strategy: 'max', activation_function: 'relu', word_embedding_dimension: V }, null, 2));
fs.writeFileSync(path.join(dst, 'config_sentence_transformers.json'),
  JSON.stringify({ model_type: 'SparseEncoder', prompts: {}, default_prompt_name: null, similarity_fn_name: 'dot' }, null, 2));
console.log(`make_splade_model: wrote ${dst}`);
