/**
 * @file Main-thread half of loading: reads a model folder's files (from disk,
 * a URL or the Hub, via source.js), checks the JSON and the safetensors
 * headers, and packs it all into a "spec" the worker builds the model from.
 * Weights go to the worker as the file's path (a folder on disk, in Node) or
 * as its bytes, transferred, not copied; the worker copies the tensors into
 * WASM memory once (pipelines/weights.js) and drops the bytes.
 */
import { SentenceWasmError } from './errors.js';
import { openSource } from './source.js';
import { readHeaderLength, parseSafetensorsHeader } from './safetensors.js';
import {
  parseModules, parseBertConfig, parsePoolingConfig, parseDenseConfig,
  parseSentenceBertConfig, parseSTConfig, parseSpladePoolingConfig, resolveCrossActivation,
} from './model_config.js';

/** Joins a module folder and a file name ('' + 'config.json' -> 'config.json'). */
export function joinPath(dir, file) {
  return dir ? `${dir.replace(/\/+$/, '')}/${file}` : file;
}

/**
 * Checks a safetensors file's header and gets its bytes to the worker. A
 * file on the local disk (Node) is left there: the worker reads its tensors
 * straight into the engine's memory (pipelines/weights.js), so the model is
 * never held twice. Any other file is read whole, and its buffer is
 * transferred to the worker with the spec.
 * @returns {Promise<{ file: string, buffer?: ArrayBuffer, diskPath?: string, size?: number,
 *   tensors: {name:string,dtype:string,shape:number[],begin:number,end:number}[] }>}
 */
export async function readWeights(source, path) {
  const entries = (parsed) => parsed.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, begin: t.begin, end: t.end }));
  if (source.openSafetensors && workersReadFiles()) {
    const { diskPath, size, parsed } = await source.openSafetensors(path);
    return { file: path, diskPath, size, tensors: entries(parsed) };
  }
  const bytes = await source.readBytes(path);
  if (bytes.length < 8) {
    throw new SentenceWasmError('BAD_SAFETENSORS', `${path}: file is ${bytes.length} bytes, too short for a safetensors header`);
  }
  const n = readHeaderLength(bytes.subarray(0, 8), bytes.length, path);
  const parsed = parseSafetensorsHeader(bytes.subarray(8, 8 + n), bytes.length, path);
  // Transfer exactly this file's bytes: copy only if the view is part of a larger buffer.
  const buffer = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? bytes.buffer : bytes.slice().buffer;
  return { file: path, buffer, tensors: entries(parsed) };
}

/** True where the worker can open files by itself (Node >= 20.16: process.getBuiltinModule). */
function workersReadFiles() {
  return typeof globalThis.process?.getBuiltinModule === 'function';
}

/** What to transfer to the worker with a file's weights: its buffer, if it was read here. */
function transferable(weights) {
  return weights.buffer ? [weights.buffer] : [];
}

/**
 * Reads the Transformer module at `dir`: config, tokenizer, weights.
 * @param {'none'|'mlm'|'classifier'} head
 */
export async function readTransformerModule(source, dir, { head = 'none' } = {}) {
  const cfgPath = joinPath(dir, 'config.json');
  const config = parseBertConfig(await source.readJson(cfgPath), cfgPath, { head });
  const tokPath = joinPath(dir, 'tokenizer.json');
  const tokenizerText = await source.readText(tokPath, { optional: true });
  if (tokenizerText === null) {
    throw new SentenceWasmError('MODEL_NOT_FOUND',
      `${tokPath} is missing: sentence-wasm reads the fast-tokenizer file tokenizer.json (vocab.txt alone is not enough)`);
  }
  const tokenizerConfig = await source.readJson(joinPath(dir, 'tokenizer_config.json'), { optional: true });
  const sbertPath = joinPath(dir, 'sentence_bert_config.json');
  const sbert = parseSentenceBertConfig(await source.readJson(sbertPath, { optional: true }), sbertPath);
  const weightsPath = joinPath(dir, 'model.safetensors');
  const weights = await readWeightsOrExplain(source, weightsPath);
  return { config, tokenizerText, tokenizerConfig, sbert, weights, configFile: cfgPath };
}

async function readWeightsOrExplain(source, path) {
  try {
    return await readWeights(source, path);
  } catch (err) {
    if (err instanceof SentenceWasmError && err.code === 'MODEL_NOT_FOUND') {
      throw new SentenceWasmError('MODEL_NOT_FOUND',
        `${path} is missing: sentence-wasm loads safetensors weights only (no pytorch_model.bin, no ONNX); ${err.message}`);
    }
    throw err;
  }
}

/**
 * The max_seq_length the library uses: sentence_bert_config.json's, else
 * tokenizer_config.json's model_max_length, capped by the position table.
 */
export function resolveMaxLength(sbert, tokenizerConfig, config) {
  let max = sbert.maxSeqLength;
  if (max === undefined && tokenizerConfig && Number.isInteger(tokenizerConfig.model_max_length)) {
    max = tokenizerConfig.model_max_length;
  }
  if (max === undefined || max > config.maxPosition) max = config.maxPosition;
  return max;
}

/**
 * Reads everything a SentenceTransformer needs.
 * @returns {Promise<{ spec: object, transfer: ArrayBuffer[] }>}
 */
export async function readSentenceTransformer(source) {
  const modulesJson = await source.readJson('modules.json', { optional: true });
  // A plain transformers checkpoint: the library wraps it as Transformer + mean Pooling.
  const modules = modulesJson === null
    ? [{ kind: 'transformer', path: '' }, { kind: 'pooling', path: null }]
    : parseModules(modulesJson);
  const st = parseSTConfig(await source.readJson('config_sentence_transformers.json', { optional: true }));
  const spec = { kind: 'sentence_transformer', ...st, modules: [] };
  const transfer = [];
  if (modules[0].kind !== 'transformer' && modules[0].kind !== 'static_embedding') {
    throw new SentenceWasmError('UNSUPPORTED_ARCHITECTURE',
      `modules.json: the first module is a ${modules[0].type || modules[0].kind}; a SentenceTransformer starts with a Transformer or StaticEmbedding`);
  }
  let dim = 0;
  for (const mod of modules) {
    switch (mod.kind) {
      case 'transformer': {
        const t = await readTransformerModule(source, mod.path);
        const maxSeqLength = resolveMaxLength(t.sbert, t.tokenizerConfig, t.config);
        spec.modules.push({ kind: 'transformer', config: t.config, tokenizerText: t.tokenizerText,
          tokenizerConfig: t.tokenizerConfig, maxSeqLength, doLowerCase: t.sbert.doLowerCase, weights: t.weights });
        transfer.push(...transferable(t.weights));
        dim = t.config.hiddenSize;
        break;
      }
      case 'static_embedding': {
        const tokPath = joinPath(mod.path, 'tokenizer.json');
        const tokenizerText = await source.readText(tokPath);
        const weights = await readWeightsOrExplain(source, joinPath(mod.path, 'model.safetensors'));
        const emb = weights.tensors.find((t) => t.name === 'embedding.weight');
        if (!emb) throw new SentenceWasmError('BAD_SAFETENSORS', `${weights.file}: tensor "embedding.weight" is missing`);
        if (emb.shape.length !== 2) throw new SentenceWasmError('BAD_SAFETENSORS', `${weights.file}: tensor "embedding.weight" must be 2-D`);
        const cfgPath = joinPath(mod.path, 'config.json');
        const cfg = await source.readJson(cfgPath, { optional: true });
        spec.modules.push({ kind: 'static_embedding', tokenizerText, weights,
          maxSeqLength: cfg && Number.isInteger(cfg.max_seq_length) ? cfg.max_seq_length : undefined });
        transfer.push(...transferable(weights));
        dim = emb.shape[1];
        break;
      }
      case 'pooling': {
        let pooling;
        if (mod.path === null) pooling = { modes: 4, count: 1, includePrompt: true };
        else {
          const p = joinPath(mod.path, 'config.json');
          pooling = parsePoolingConfig(await source.readJson(p), p);
          if (pooling.dimension !== undefined && pooling.dimension !== dim) {
            throw new SentenceWasmError('BAD_CONFIG',
              `${p}: word_embedding_dimension ${pooling.dimension} does not match the transformer's hidden_size ${dim}`);
          }
        }
        spec.modules.push({ kind: 'pooling', ...pooling });
        dim *= pooling.count;
        break;
      }
      case 'dense': {
        const p = joinPath(mod.path, 'config.json');
        const cfg = parseDenseConfig(await source.readJson(p), p);
        if (cfg.inFeatures !== dim) {
          throw new SentenceWasmError('BAD_CONFIG', `${p}: in_features ${cfg.inFeatures} does not match the previous module's output ${dim}`);
        }
        const weights = await readWeightsOrExplain(source, joinPath(mod.path, 'model.safetensors'));
        spec.modules.push({ kind: 'dense', ...cfg, weights });
        transfer.push(...transferable(weights));
        dim = cfg.outFeatures;
        break;
      }
      case 'normalize':
        spec.modules.push({ kind: 'normalize' });
        break;
      default:
        throw new SentenceWasmError('UNSUPPORTED_ARCHITECTURE',
          `modules.json: module ${mod.type || mod.kind} does not belong in a SentenceTransformer`);
    }
  }
  if (modules[0].kind === 'transformer' && !spec.modules.some((m) => m.kind === 'pooling')) {
    throw new SentenceWasmError('BAD_CONFIG', 'modules.json: a Transformer needs a Pooling module after it');
  }
  spec.dimension = dim;
  return { spec, transfer };
}

export { openSource };

// ---- CrossEncoder and SparseEncoder ----

/**
 * Checks config.json's `architectures` before any weights are fetched: a
 * checkpoint without the head a model type needs fails here, naming it,
 * instead of later as a missing tensor.
 * @returns {Promise<object>} the raw config.json
 */
async function checkArchitecture(source, cfgPath, suffix, what) {
  const raw = await source.readJson(cfgPath);
  const archs = raw && Array.isArray(raw.architectures) ? raw.architectures : [];
  if (archs.length && !archs.some((a) => typeof a === 'string' && a.endsWith(suffix))) {
    throw new SentenceWasmError('UNSUPPORTED_ARCHITECTURE',
      `${cfgPath}: architectures ${JSON.stringify(archs)} has no *${suffix} head; ${what}`);
  }
  return raw;
}

/**
 * Reads everything a CrossEncoder needs: a BertForSequenceClassification
 * checkpoint at the folder root (weights bert.*, bert.pooler.*, classifier.*).
 * @param {{ maxLength?: number }} [opts] maxLength: the library's max_length argument
 * @returns {Promise<{ spec: object, transfer: ArrayBuffer[] }>}
 */
export async function readCrossEncoder(source, { maxLength } = {}) {
  const raw = await checkArchitecture(source, 'config.json', 'ForSequenceClassification',
    'a CrossEncoder needs a sequence-classification checkpoint such as BertForSequenceClassification');
  const stPath = 'config_sentence_transformers.json';
  const stRaw = await source.readJson(stPath, { optional: true });
  const t = await readTransformerModule(source, '', { head: 'classifier' });
  // The library's tokenizer.model_max_length: an explicit max_length as given,
  // else tokenizer_config.json's, capped by max_position_embeddings.
  let max = resolveMaxLength(t.sbert, t.tokenizerConfig, t.config);
  if (maxLength !== undefined) {
    if (maxLength > t.config.maxPosition) {
      throw new SentenceWasmError('INVALID_INPUT',
        `load: maxLength ${maxLength} exceeds max_position_embeddings ${t.config.maxPosition} of config.json`);
    }
    max = maxLength;
  }
  const activation = resolveCrossActivation(raw, stRaw, t.config.numLabels);
  const labels = raw.id2label && typeof raw.id2label === 'object'
    ? Array.from({ length: t.config.numLabels }, (_, i) => (typeof raw.id2label[i] === 'string' ? raw.id2label[i] : `LABEL_${i}`))
    : Array.from({ length: t.config.numLabels }, (_, i) => `LABEL_${i}`);
  const spec = {
    kind: 'cross_encoder',
    config: t.config, tokenizerText: t.tokenizerText, tokenizerConfig: t.tokenizerConfig,
    maxLength: max, weights: t.weights,
    numLabels: t.config.numLabels, labels, activationFn: activation.name,
  };
  return { spec, transfer: transferable(t.weights) };
}

/**
 * Reads everything a SparseEncoder needs: MLMTransformer (a BertForMaskedLM
 * checkpoint, weights bert.* + cls.predictions.*) then SpladePooling. A
 * folder without modules.json but with a *ForMaskedLM config gets the
 * library's defaults: SpladePooling(max, relu).
 * @returns {Promise<{ spec: object, transfer: ArrayBuffer[] }>}
 */
export async function readSparseEncoder(source) {
  const modulesJson = await source.readJson('modules.json', { optional: true });
  const modules = modulesJson === null
    ? [{ kind: 'mlm_transformer', path: '' }, { kind: 'splade_pooling', path: null }]
    : parseModules(modulesJson);
  const kinds = modules.map((m) => m.kind);
  if (kinds.length !== 2 || kinds[0] !== 'mlm_transformer' || kinds[1] !== 'splade_pooling') {
    throw new SentenceWasmError('UNSUPPORTED_ARCHITECTURE',
      `modules.json: modules [${modules.map((m) => m.type || m.kind).join(', ')}] are not supported for a SparseEncoder `
      + '(supported: MLMTransformer followed by SpladePooling)');
  }
  const [mlm, pool] = modules;
  const cfgPath = joinPath(mlm.path, 'config.json');
  const raw = await checkArchitecture(source, cfgPath, 'ForMaskedLM',
    'a SparseEncoder\'s MLMTransformer needs a masked-LM checkpoint such as BertForMaskedLM (the MLM head makes the vocabulary logits)');
  if (raw.tie_word_embeddings === false) {
    throw new SentenceWasmError('UNSUPPORTED_ARCHITECTURE',
      `${cfgPath}: tie_word_embeddings is false; the engine's MLM decoder is tied to the word embeddings`);
  }
  const st = parseSTConfig(await source.readJson('config_sentence_transformers.json', { optional: true }),
    'config_sentence_transformers.json', { defaultSimilarity: 'dot' });
  let pooling;
  if (pool.path === null) pooling = parseSpladePoolingConfig(null);
  else {
    const p = joinPath(pool.path, 'config.json');
    pooling = parseSpladePoolingConfig(await source.readJson(p, { optional: true }), p);
  }
  const t = await readTransformerModule(source, mlm.path, { head: 'mlm' });
  if (pooling.dimension !== undefined && pooling.dimension !== t.config.vocabSize) {
    throw new SentenceWasmError('BAD_CONFIG',
      `${pool.path}/config.json: word_embedding_dimension ${pooling.dimension} does not match vocab_size ${t.config.vocabSize} of ${cfgPath}`);
  }
  const spec = {
    kind: 'sparse_encoder', ...st,
    transformer: {
      config: t.config, tokenizerText: t.tokenizerText, tokenizerConfig: t.tokenizerConfig,
      maxSeqLength: resolveMaxLength(t.sbert, t.tokenizerConfig, t.config), doLowerCase: t.sbert.doLowerCase,
      weights: t.weights,
    },
    pooling,
    dimension: t.config.vocabSize,
  };
  return { spec, transfer: transferable(t.weights) };
}
