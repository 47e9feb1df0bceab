/**
 * @file Prompt resolution as sentence-transformers' encode() does it, shared
 * by SentenceTransformer and SparseEncoder: an explicit prompt wins, then a
 * named one, then the model's default_prompt_name.
 */
import { SentenceWasmError } from './errors.js';
import { describe } from './options.js';

/**
 * @param {Readonly<Record<string, string>>} prompts the model's prompts
 * @param {string | null} defaultPromptName
 * @param {unknown} prompt   the call's `prompt` option
 * @param {unknown} promptName the call's `promptName` option
 * @returns {string} the text to prepend ('' for none)
 */
export function resolvePrompt(prompts, defaultPromptName, prompt, promptName) {
  if (prompt !== undefined && prompt !== null) {
    if (typeof prompt !== 'string') throw new SentenceWasmError('INVALID_INPUT', `prompt must be a string, got ${describe(prompt)}`);
    return prompt; // like the library: an explicit prompt wins over promptName
  }
  if (promptName !== undefined && promptName !== null) {
    if (typeof promptName !== 'string' || !Object.hasOwn(prompts, promptName)) {
      throw new SentenceWasmError('INVALID_INPUT',
        `promptName ${JSON.stringify(String(promptName)).slice(0, 80)} is not one of the model's prompts (${Object.keys(prompts).map((k) => `"${k}"`).join(', ') || 'none'})`);
    }
    return prompts[promptName];
  }
  if (defaultPromptName) return prompts[defaultPromptName] ?? '';
  return '';
}

/**
 * encode_query / encode_document: the options with the first of `names` the
 * model has as its promptName, unless the caller chose a prompt already.
 */
export function withTaskPrompt(prompts, options, names) {
  if (options.prompt !== undefined || options.promptName !== undefined) return options;
  const name = names.find((n) => Object.hasOwn(prompts, n));
  return name ? { ...options, promptName: name } : options;
}
