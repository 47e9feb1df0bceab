/**
 * @file The assertion every error-path test makes: the promise rejects with a
 * SentenceWasmError of this code, and its message names the culprit.
 */
import assert from 'node:assert/strict';
import { SentenceWasmError } from '../../js/errors.js';

export async function rejectsWith(promise, code, pattern) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof SentenceWasmError, `not a SentenceWasmError: ${err && err.stack}`);
    assert.equal(err.code, code, err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}
