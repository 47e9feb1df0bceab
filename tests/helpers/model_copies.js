/**
 * @file Test helpers that make broken model folders: copy a fixture to a
 * temporary folder (shared/ and tests/fixtures stay untouched), then edit a
 * JSON file or rewrite a safetensors header.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixtureDir } from './fixtures.js';

const copies = [];

/** Removes every temporary copy made so far (also run when the test process exits). */
export function removeCopies() {
  for (const d of copies.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}
process.on('exit', removeCopies);

/** A temporary copy of fixture `name` changed by `edit(dir)`, removed by removeCopies(). */
export function fixtureVariant(name, edit) {
  const dir = copyFixture(name);
  edit(dir);
  return dir;
}

/** Copies fixture `name` into a new temporary folder; returns its path. */
export function copyFixture(name) {
  const dst = fs.mkdtempSync(path.join(os.tmpdir(), `sw-${name}-`));
  copies.push(dst);
  fs.cpSync(fixtureDir(name), dst, { recursive: true });
  for (const f of fs.readdirSync(dst, { recursive: true })) fs.chmodSync(path.join(dst, f), 0o755);
  return dst;
}

/** Copies any model folder into a new temporary folder; returns its path. */
export function copyFixtureFrom(src) {
  const dst = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-model-'));
  copies.push(dst);
  fs.cpSync(src, dst, { recursive: true });
  for (const f of fs.readdirSync(dst, { recursive: true })) fs.chmodSync(path.join(dst, f), 0o755);
  return dst;
}

export function editJson(file, fn) {
  const obj = JSON.parse(fs.readFileSync(file, 'utf8'));
  fs.writeFileSync(file, JSON.stringify(fn(obj) ?? obj));
}

/** Splits a safetensors file into its header object and data bytes. */
export function readSafetensors(file) {
  const buf = fs.readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  return { header: JSON.parse(buf.subarray(8, 8 + n).toString('utf8')), data: buf.subarray(8 + n) };
}

/** Writes a header object (as given: no checks) and data bytes as safetensors. */
export function writeSafetensors(file, header, data) {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  fs.writeFileSync(file, Buffer.concat([len, json, data]));
}

/** Rewrites a safetensors header with fn(header) (data unchanged). */
export function editSafetensorsHeader(file, fn) {
  const { header, data } = readSafetensors(file);
  writeSafetensors(file, fn(header) ?? header, data);
}
