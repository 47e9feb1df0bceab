/**
 * @file 'longest_first' truncation lengths, as the Rust `tokenizers` crate
 * (tokenizers/src/utils/truncation.rs, `truncate_encodings`) computes them.
 *
 * The budget is max_length minus the special tokens the post-processor adds,
 * and only content tokens are cut (from the right), so [SEP] stays last.
 *
 * Pair tie-break (checked against the Rust source): with n1 = the shorter and
 * n2 = the longer length, if both must be cut each gets budget/2 and the
 * longer one gets the odd token. When the lengths are equal the FIRST
 * sequence counts as the shorter, so the extra token goes to the SECOND one
 * whenever len(first) <= len(second). (transformers' slow tokenizers give it
 * to the first instead; we copy the fast tokenizer that sentence-transformers
 * uses.)
 */

/**
 * @param {number} lenA  content tokens of the first sequence
 * @param {number} lenB  content tokens of the second sequence
 * @param {number} budget  max content tokens in total (>= 0, may be Infinity)
 * @returns {[number, number]}  lengths to keep
 */
export function longestFirstPair(lenA, lenB, budget) {
  if (lenA + lenB <= budget) return [lenA, lenB];
  const swap = lenA > lenB;
  let n1 = swap ? lenB : lenA; // shorter
  let n2;
  if (n1 > budget) n2 = n1;
  else n2 = Math.max(n1, budget - n1);
  if (n1 + n2 > budget) {
    n1 = Math.floor(budget / 2);
    n2 = n1 + (budget % 2);
  }
  const keepA = swap ? n2 : n1;
  const keepB = swap ? n1 : n2;
  return [Math.min(lenA, keepA), Math.min(lenB, keepB)];
}
