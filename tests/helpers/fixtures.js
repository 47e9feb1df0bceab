/**
 * @file Test helpers: fixture paths and tolerance checks (DESIGN.md:
 * every component within 1e-4 absolute and cosine >= 0.99999).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

export function fixtureDir(name) { return path.join(FIXTURES, name); }

export function readReference(name) {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, name, 'reference.json'), 'utf8'));
}

export function fixtureNames(prefix) {
  return fs.readdirSync(FIXTURES).filter((d) => d.startsWith(prefix) && fs.existsSync(path.join(FIXTURES, d, 'reference.json'))).sort();
}

export const ABS_TOL = 1e-4;
export const MIN_COSINE = 0.99999;

function cosine(a, b) {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  if (na === 0 && nb === 0) return 1;
  return d / Math.sqrt(na * nb);
}

/** Asserts one vector matches its reference: length, every component, cosine. */
export function assertClose(actual, expected, label) {
  assert.equal(actual.length, expected.length, `${label}: length ${actual.length} != ${expected.length}`);
  let worst = 0, at = -1;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= worst)) { worst = d; at = i; }
  }
  assert.ok(worst <= ABS_TOL, `${label}: component ${at} is ${actual[at]}, expected ${expected[at]} (diff ${worst})`);
  const c = cosine(actual, expected);
  assert.ok(c >= MIN_COSINE, `${label}: cosine ${c} < ${MIN_COSINE}`);
}

/** assertClose over lists of vectors. */
export function assertAllClose(actual, expected, label) {
  assert.equal(actual.length, expected.length, `${label}: ${actual.length} results, expected ${expected.length}`);
  expected.forEach((e, i) => assertClose(actual[i], e, `${label}[${i}]`));
}
