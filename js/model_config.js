/**
 * @file Reads the JSON files of a sentence-transformers folder into plain,
 * checked descriptions: which modules, which encoder shape, which pooling.
 * Pure functions, no I/O; every error names the file and the field.
 */
import { SentenceWasmError } from './errors.js';
import { ACT, HEAD, POOL } from './binding.js';

const bad = (file, msg) => new SentenceWasmError('BAD_CONFIG', `${file}: ${msg}`);

function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A model-supplied value for an error message: JSON, at most 80 characters. */
function show(v) {
  let text;
  try { text = JSON.stringify(v) ?? String(v); } catch { text = '(unprintable)'; }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Looks a model-supplied name up in a fixed table: own keys only, strings only
 * (a config cannot reach "constructor" or "__proto__" of the table). */
function lookup(table, key) {
  return typeof key === 'string' && Object.hasOwn(table, key) ? table[key] : undefined;
}

/** Module kinds by class name: the package path changed in v5, the class name did not. */
const MODULE_KINDS = {
  Transformer: 'transformer',
  MLMTransformer: 'mlm_transformer',
  StaticEmbedding: 'static_embedding',
  Pooling: 'pooling',
  Dense: 'dense',
  Normalize: 'normalize',
  SpladePooling: 'splade_pooling',
};

/**
 * modules.json -> [{ kind, path, type }] in idx order.
 * @param {unknown} json @param {string} file
 */
export function parseModules(json, file = 'modules.json') {
  if (!Array.isArray(json) || json.length === 0) throw bad(file, 'expected a non-empty array of modules');
  const mods = json.map((m, i) => {
    if (!isObject(m) || typeof m.type !== 'string') throw bad(file, `entry ${i} has no "type" string`);
    const cls = m.type.split('.').pop();
    const kind = lookup(MODULE_KINDS, cls);
    if (!kind) {
      throw new SentenceWasmError('UNSUPPORTED_ARCHITECTURE',
        `${file}: module type ${show(m.type)} is not supported (supported: ${Object.keys(MODULE_KINDS).join(', ')})`);
    }
    const path = m.path === undefined ? '' : m.path;
    if (typeof path !== 'string') throw bad(file, `entry ${i} has a non-string "path"`);
    return { kind, path, type: m.type, idx: Number.isInteger(m.idx) ? m.idx : i };
  });
  return mods.sort((a, b) => a.idx - b.idx);
}

const int = (cfg, key, file, { def, min = 1, max = 2 ** 30 } = {}) => {
  const v = cfg[key] === undefined || cfg[key] === null ? def : cfg[key];
  if (!Number.isInteger(v) || v < min || v > max) {
    throw bad(file, `"${key}" must be an integer in [${min}, ${max}], got ${show(cfg[key])}`);
  }
  return v;
};

const HIDDEN_ACTS = {
  gelu: ACT.gelu, gelu_python: ACT.gelu, gelu_new: ACT.gelu_tanh, gelu_pytorch_tanh: ACT.gelu_tanh,
  gelu_fast: ACT.gelu_tanh, relu: ACT.relu, tanh: ACT.tanh,
};

/** Architectures the encoder runs, and the head each one carries. */
const ARCHITECTURES = {
  BertModel: HEAD.none,
  BertForMaskedLM: HEAD.mlm,
  BertForSequenceClassification: HEAD.classifier,
};

/**
 * config.json of a BERT checkpoint -> the NativeEncoder config.
 * @param {unknown} cfg @param {string} file
 * @param {{ head?: 'none'|'mlm'|'classifier' }} want which head the caller needs
 */
export function parseBertConfig(cfg, file = 'config.json', { head = 'none' } = {}) {
  if (!isObject(cfg)) throw bad(file, 'expected a JSON object');
  const modelType = cfg.model_type;
  if (modelType !== undefined && modelType !== 'bert') {
    throw new SentenceWasmError('UNSUPPORTED_ARCHITECTURE',
      `${file}: model_type ${show(modelType)} is not supported (sentence-wasm runs BERT encoders: model_type "bert")`);
  }
  const archs = Array.isArray(cfg.architectures) ? cfg.architectures : [];
  for (const a of archs) {
    if (lookup(ARCHITECTURES, a) === undefined) {
      throw new SentenceWasmError('UNSUPPORTED_ARCHITECTURE',
        `${file}: architecture ${show(a)} is not supported (supported: ${Object.keys(ARCHITECTURES).join(', ')})`);
    }
  }
  if (cfg.position_embedding_type !== undefined && cfg.position_embedding_type !== 'absolute') {
    throw new SentenceWasmError('UNSUPPORTED_ARCHITECTURE',
      `${file}: position_embedding_type ${show(cfg.position_embedding_type)} is not supported (only "absolute")`);
  }
  const act = cfg.hidden_act === undefined ? 'gelu' : cfg.hidden_act;
  const hiddenAct = lookup(HIDDEN_ACTS, act);
  if (hiddenAct === undefined) throw bad(file, `hidden_act ${show(act)} is not supported (${Object.keys(HIDDEN_ACTS).join(', ')})`);
  const hiddenSize = int(cfg, 'hidden_size', file, { max: 16384 });
  const numHeads = int(cfg, 'num_attention_heads', file, { max: 1024 });
  if (hiddenSize % numHeads !== 0) {
    throw bad(file, `hidden_size ${hiddenSize} is not divisible by num_attention_heads ${numHeads}`);
  }
  let numLabels = 0;
  if (head === 'classifier') {
    const id2label = isObject(cfg.id2label) ? Object.keys(cfg.id2label).length : 0;
    numLabels = cfg.num_labels !== undefined ? int(cfg, 'num_labels', file, { max: 65536 }) : (id2label || 2);
  }
  const eps = cfg.layer_norm_eps === undefined ? 1e-12 : cfg.layer_norm_eps;
  if (typeof eps !== 'number' || !(eps >= 0 && eps < 1)) throw bad(file, '"layer_norm_eps" must be a number in [0, 1)');
  return {
    vocabSize: int(cfg, 'vocab_size', file, { max: 4194304 }),
    hiddenSize,
    numLayers: int(cfg, 'num_hidden_layers', file, { max: 256 }),
    numHeads,
    intermediateSize: int(cfg, 'intermediate_size', file, { max: 65536 }),
    maxPosition: int(cfg, 'max_position_embeddings', file, { def: 512, max: 65536 }),
    typeVocabSize: int(cfg, 'type_vocab_size', file, { def: 2, min: 0, max: 1024 }),
    hiddenAct,
    heads: HEAD[head],
    numLabels,
    layerNormEps: eps,
    architectures: archs,
  };
}

/** Pooling mode names of the v5 `pooling_mode` key and the older boolean keys, in the library's order. */
const POOLING_MODES = [
  ['cls', 'pooling_mode_cls_token', POOL.cls],
  ['max', 'pooling_mode_max_tokens', POOL.max],
  ['mean', 'pooling_mode_mean_tokens', POOL.mean],
  ['mean_sqrt_len_tokens', 'pooling_mode_mean_sqrt_len_tokens', POOL.mean_sqrt_len_tokens],
  ['weightedmean', 'pooling_mode_weightedmean_tokens', POOL.weightedmean],
  ['lasttoken', 'pooling_mode_lasttoken', POOL.lasttoken],
];

/**
 * 1_Pooling/config.json (v3/v4 boolean keys or v5 pooling_mode) ->
 * { modes (POOL bits), count, includePrompt, dimension }.
 */
export function parsePoolingConfig(cfg, file = '1_Pooling/config.json') {
  if (!isObject(cfg)) throw bad(file, 'expected a JSON object');
  let modes = 0;
  if (cfg.pooling_mode !== undefined) {
    const names = Array.isArray(cfg.pooling_mode) ? cfg.pooling_mode : [cfg.pooling_mode];
    for (const n of names) {
      const hit = POOLING_MODES.find(([name]) => name === n || (n === 'mean_sqrt_len' && name === 'mean_sqrt_len_tokens'));
      if (!hit) throw bad(file, `pooling_mode ${show(n)} is not one of ${POOLING_MODES.map((m) => m[0]).join(', ')}`);
      modes |= hit[2];
    }
  } else {
    for (const [, key, bit] of POOLING_MODES) if (cfg[key] === true) modes |= bit;
  }
  if (!modes) throw bad(file, 'no pooling mode is enabled');
  const dimension = cfg.embedding_dimension ?? cfg.word_embedding_dimension;
  if (dimension !== undefined && (!Number.isInteger(dimension) || dimension < 1)) {
    throw bad(file, '"word_embedding_dimension" must be a positive integer');
  }
  let count = 0;
  for (let m = modes; m; m &= m - 1) count++;
  return { modes, count, includePrompt: cfg.include_prompt !== false, dimension };
}

const TORCH_ACTIVATIONS = {
  Identity: ACT.identity, Tanh: ACT.tanh, ReLU: ACT.relu, GELU: ACT.gelu, Sigmoid: ACT.sigmoid,
};

/** A torch activation path ("torch.nn.modules.activation.Tanh") -> ACT value. */
export function parseTorchActivation(name, file, field) {
  if (typeof name !== 'string') throw bad(file, `${field} must be a string, got ${show(name)}`);
  const act = lookup(TORCH_ACTIVATIONS, name.split('.').pop());
  if (act === undefined) {
    throw new SentenceWasmError('UNSUPPORTED_ARCHITECTURE',
      `${file}: ${field} ${show(name)} is not supported (${Object.keys(TORCH_ACTIVATIONS).join(', ')})`);
  }
  return act;
}

/** N_Dense/config.json -> { inFeatures, outFeatures, bias, act }. */
export function parseDenseConfig(cfg, file) {
  if (!isObject(cfg)) throw bad(file, 'expected a JSON object');
  return {
    inFeatures: int(cfg, 'in_features', file, { max: 65536 }),
    outFeatures: int(cfg, 'out_features', file, { max: 1048576 }),
    bias: cfg.bias !== false,
    act: parseTorchActivation(cfg.activation_function ?? 'torch.nn.modules.linear.Identity', file, 'activation_function'),
  };
}

/** sentence_bert_config.json -> { maxSeqLength, doLowerCase }. */
export function parseSentenceBertConfig(cfg, file = 'sentence_bert_config.json') {
  if (cfg === null || cfg === undefined) return { maxSeqLength: undefined, doLowerCase: false };
  if (!isObject(cfg)) throw bad(file, 'expected a JSON object');
  const max = cfg.max_seq_length;
  if (max !== undefined && max !== null && (!Number.isInteger(max) || max < 1)) {
    throw bad(file, '"max_seq_length" must be a positive integer');
  }
  return { maxSeqLength: max ?? undefined, doLowerCase: cfg.do_lower_case === true };
}

const SIMILARITY_FNS = ['cosine', 'dot', 'euclidean', 'manhattan'];

/** config_sentence_transformers.json -> { prompts, defaultPromptName, similarityFnName }. */
export function parseSTConfig(cfg, file = 'config_sentence_transformers.json', { defaultSimilarity = 'cosine' } = {}) {
  if (cfg === null || cfg === undefined) return { prompts: {}, defaultPromptName: null, similarityFnName: defaultSimilarity };
  if (!isObject(cfg)) throw bad(file, 'expected a JSON object');
  const prompts = cfg.prompts ?? {};
  if (!isObject(prompts) || Object.values(prompts).some((p) => typeof p !== 'string')) {
    throw bad(file, '"prompts" must map names to strings');
  }
  const def = cfg.default_prompt_name ?? null;
  if (def !== null && (typeof def !== 'string' || !Object.hasOwn(prompts, def))) {
    throw bad(file, `default_prompt_name ${show(def)} is not in "prompts"`);
  }
  let sim = cfg.similarity_fn_name ?? defaultSimilarity;
  if (sim === 'dot_product') sim = 'dot';
  if (!SIMILARITY_FNS.includes(sim)) throw bad(file, `similarity_fn_name ${show(sim)} is not one of ${SIMILARITY_FNS.join(', ')}`);
  return { prompts: { ...prompts }, defaultPromptName: def, similarityFnName: sim };
}

// ---- SparseEncoder and CrossEncoder configs ----

/**
 * N_SpladePooling/config.json -> { strategy, activation, sum, log1pTwice, dimension }.
 * `sum`/`log1pTwice` are the two switches of sw_ctx_splade.
 */
export function parseSpladePoolingConfig(cfg, file = '1_SpladePooling/config.json') {
  if (cfg === null || cfg === undefined) cfg = {}; // the library's defaults: max, relu
  if (!isObject(cfg)) throw bad(file, 'expected a JSON object');
  const strategy = cfg.pooling_strategy ?? 'max';
  if (strategy !== 'max' && strategy !== 'sum') throw bad(file, `pooling_strategy ${show(strategy)} is not one of max, sum`);
  const activation = cfg.activation_function ?? 'relu';
  if (activation !== 'relu' && activation !== 'log1p_relu') {
    throw bad(file, `activation_function ${show(activation)} is not one of relu, log1p_relu`);
  }
  const dimension = cfg.word_embedding_dimension ?? undefined;
  if (dimension !== undefined && (!Number.isInteger(dimension) || dimension < 1)) {
    throw bad(file, '"word_embedding_dimension" must be a positive integer');
  }
  return { strategy, activation, sum: strategy === 'sum', log1pTwice: activation === 'log1p_relu', dimension };
}

/** Score activations a CrossEncoder can apply, by torch class name. */
export const CROSS_ACTIVATIONS = ['Identity', 'Sigmoid', 'Tanh', 'ReLU'];

/**
 * An activation given as a torch path ("torch.nn.modules.activation.Sigmoid")
 * or a class name ("Sigmoid", any case) -> its canonical class name, or null.
 */
export function crossActivationName(value) {
  if (typeof value !== 'string' || !value) return null;
  const cls = value.split('.').pop().toLowerCase();
  return CROSS_ACTIVATIONS.find((a) => a.toLowerCase() === cls) ?? null;
}

/**
 * The activation a CrossEncoder applies to its logits, resolved as the library
 * does: config.json `sentence_transformers.activation_fn`, else
 * config_sentence_transformers.json `activation_fn`, else the pre-v4
 * config.json `sbert_ce_default_activation_function`; else Sigmoid for one
 * label and Identity otherwise. Like the library (without trust_remote_code),
 * a path outside `torch.` is not imported and the default is used instead.
 * @returns {{ name: string, from: string }} canonical class name and where it came from
 */
export function resolveCrossActivation(configJson, stConfigJson, numLabels,
  { configFile = 'config.json', stFile = 'config_sentence_transformers.json' } = {}) {
  const candidates = [
    [isObject(configJson?.sentence_transformers) ? configJson.sentence_transformers.activation_fn : undefined,
      `${configFile}: sentence_transformers.activation_fn`],
    [isObject(stConfigJson) ? stConfigJson.activation_fn : undefined, `${stFile}: activation_fn`],
    [configJson?.sbert_ce_default_activation_function, `${configFile}: sbert_ce_default_activation_function`],
  ];
  for (const [path, from] of candidates) {
    if (path === undefined || path === null) continue;
    if (typeof path !== 'string') throw new SentenceWasmError('BAD_CONFIG', `${from} must be a string`);
    if (!path.startsWith('torch.')) break; // untrusted path: the library falls back to the default
    const name = crossActivationName(path);
    if (!name) {
      throw new SentenceWasmError('UNSUPPORTED_ARCHITECTURE',
        `${from} ${show(path)} is not supported (supported: ${CROSS_ACTIVATIONS.join(', ')})`);
    }
    return { name, from };
  }
  return { name: numLabels === 1 ? 'Sigmoid' : 'Identity', from: 'default' };
}
