/**
 * @file tokenizer.json `post_processor`: wraps the (already truncated) content
 * ids of one or two sequences with special tokens and gives the type ids.
 *
 * Supported: TemplateProcessing, BertProcessing, RobertaProcessing, null (no
 * special tokens). Type ids follow the Rust `tokenizers` crate:
 *  - TemplateProcessing: each piece's `type_id`, for every token of a sequence;
 *  - BertProcessing: [CLS] A [SEP] -> 0, B [SEP] -> 1;
 *  - RobertaProcessing: `<s> A </s></s> B </s>`, ALL type ids 0 (the Rust
 *    code sets every type id to 0 on purpose; MPNet/RoBERTa have no useful
 *    token-type embedding anyway).
 */

import { SentenceWasmError } from '../errors.js';

function bad(fileName, path, what) {
  return new SentenceWasmError('BAD_TOKENIZER', `${fileName}: ${path} ${what}`);
}

function checkId(id, fileName, path) {
  if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff) {
    throw bad(fileName, path, `must be a non-negative integer id (got ${JSON.stringify(id)})`);
  }
  return id;
}

/** `[token, id]` pair of Bert/RobertaProcessing. */
function tokenPair(v, fileName, path) {
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string') {
    throw bad(fileName, path, 'must be a [token, id] pair');
  }
  return checkId(v[1], fileName, `${path}[1]`);
}

/**
 * A compiled template: a list of parts, each either fixed special ids or a
 * sequence slot, with its type id.
 * @typedef {{ ids?: number[], seq?: 0|1, typeId: number }} Part
 */

/** Runs a template over the content ids. */
function applyTemplate(parts, nSpecial, a, b) {
  const total = nSpecial + a.length + (b ? b.length : 0);
  const ids = new Int32Array(total);
  const typeIds = new Int32Array(total);
  let k = 0;
  for (const p of parts) {
    const src = p.ids ?? (p.seq === 0 ? a : b);
    for (let i = 0; i < src.length; i++) {
      ids[k] = src[i];
      typeIds[k] = p.typeId;
      k++;
    }
  }
  return { ids, typeIds };
}

function countSpecial(parts) {
  let n = 0;
  for (const p of parts) if (p.ids) n += p.ids.length;
  return n;
}

function makeProcessor(singleParts, pairParts) {
  const nSingle = countSpecial(singleParts);
  const nPair = countSpecial(pairParts);
  const specialIds = [...singleParts, ...pairParts].flatMap((p) => p.ids ?? []);
  return {
    numSpecial: (pair) => (pair ? nPair : nSingle),
    single: (a) => applyTemplate(singleParts, nSingle, a, null),
    pair: (a, b) => applyTemplate(pairParts, nPair, a, b),
    specialIds,
  };
}

function compileTemplate(list, specialTokens, isPair, fileName, path) {
  if (!Array.isArray(list)) throw bad(fileName, path, 'must be an array of {SpecialToken} / {Sequence} pieces');
  const seen = new Set();
  const parts = list.map((piece, i) => {
    const p = `${path}[${i}]`;
    if (piece && typeof piece === 'object' && piece.SpecialToken) {
      const { id, type_id: typeId = 0 } = piece.SpecialToken;
      const st = specialTokens[id];
      if (!st || !Array.isArray(st.ids)) throw bad(fileName, `${p}.SpecialToken.id`, `${JSON.stringify(id)} is not in post_processor.special_tokens`);
      const ids = st.ids.map((x, j) => checkId(x, fileName, `post_processor.special_tokens[${JSON.stringify(id)}].ids[${j}]`));
      return { ids, typeId: checkId(typeId, fileName, `${p}.SpecialToken.type_id`) };
    }
    if (piece && typeof piece === 'object' && piece.Sequence) {
      const { id, type_id: typeId = 0 } = piece.Sequence;
      if (id !== 'A' && id !== 'B') throw bad(fileName, `${p}.Sequence.id`, `must be "A" or "B" (got ${JSON.stringify(id)})`);
      if (id === 'B' && !isPair) throw bad(fileName, `${p}.Sequence.id`, '"B" cannot appear in the single template');
      seen.add(id);
      return { seq: id === 'A' ? 0 : 1, typeId: checkId(typeId, fileName, `${p}.Sequence.type_id`) };
    }
    throw bad(fileName, p, 'must be {"SpecialToken": ...} or {"Sequence": ...}');
  });
  if (!seen.has('A') || (isPair && !seen.has('B'))) {
    throw bad(fileName, path, `must contain sequence ${isPair ? '"A" and "B"' : '"A"'}`);
  }
  return parts;
}

/**
 * @param {object|null} cfg  tokenizer.json `post_processor`
 * @param {string} fileName
 */
export function buildPostProcessor(cfg, fileName) {
  const path = 'post_processor';
  if (cfg === null || cfg === undefined) {
    return makeProcessor([{ seq: 0, typeId: 0 }], [{ seq: 0, typeId: 0 }, { seq: 1, typeId: 1 }]);
  }
  if (typeof cfg !== 'object' || Array.isArray(cfg)) throw bad(fileName, path, 'must be an object or null');
  switch (cfg.type) {
    case 'TemplateProcessing': {
      const special = cfg.special_tokens ?? {};
      if (typeof special !== 'object' || Array.isArray(special)) throw bad(fileName, `${path}.special_tokens`, 'must be an object');
      return makeProcessor(
        compileTemplate(cfg.single, special, false, fileName, `${path}.single`),
        compileTemplate(cfg.pair, special, true, fileName, `${path}.pair`),
      );
    }
    case 'BertProcessing': {
      const cls = tokenPair(cfg.cls, fileName, `${path}.cls`);
      const sep = tokenPair(cfg.sep, fileName, `${path}.sep`);
      return makeProcessor(
        [{ ids: [cls], typeId: 0 }, { seq: 0, typeId: 0 }, { ids: [sep], typeId: 0 }],
        [{ ids: [cls], typeId: 0 }, { seq: 0, typeId: 0 }, { ids: [sep], typeId: 0 },
          { seq: 1, typeId: 1 }, { ids: [sep], typeId: 1 }],
      );
    }
    case 'RobertaProcessing': {
      const cls = tokenPair(cfg.cls, fileName, `${path}.cls`);
      const sep = tokenPair(cfg.sep, fileName, `${path}.sep`);
      return makeProcessor(
        [{ ids: [cls], typeId: 0 }, { seq: 0, typeId: 0 }, { ids: [sep], typeId: 0 }],
        [{ ids: [cls], typeId: 0 }, { seq: 0, typeId: 0 }, { ids: [sep, sep], typeId: 0 },
          { seq: 1, typeId: 0 }, { ids: [sep], typeId: 0 }],
      );
    }
    default:
      throw bad(fileName, `${path}.type`, `${JSON.stringify(cfg.type)} is not supported`
        + ' (supported: TemplateProcessing, BertProcessing, RobertaProcessing, null)');
  }
}
