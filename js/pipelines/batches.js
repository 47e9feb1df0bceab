/**
 * @file Splits tokenized texts into forward-pass batches: longest first (as
 * the library sorts), at most `batchSize` texts and a token budget per batch
 * so activation memory stays bounded whatever the inputs.
 */

/** Tokens per forward pass at most: [tokens x intermediate] floats must stay small. */
export const TOKEN_BUDGET = 8192;

/**
 * @param {{ length: number }[]} seqs
 * @param {number} batchSize
 * @returns {number[][]} batches of indices into seqs
 */
export function planBatches(seqs, batchSize, tokenBudget = TOKEN_BUDGET) {
  const order = seqs.map((_, i) => i).sort((a, b) => seqs[b].length - seqs[a].length || a - b);
  const batches = [];
  let cur = [];
  let tokens = 0;
  for (const i of order) {
    const n = seqs[i].length;
    if (cur.length && (cur.length >= batchSize || tokens + n > tokenBudget)) {
      batches.push(cur);
      cur = [];
      tokens = 0;
    }
    cur.push(i);
    tokens += n;
  }
  if (cur.length) batches.push(cur);
  return batches;
}
