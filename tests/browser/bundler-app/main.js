// A user's app, as tests/browser/bundler.test.js builds it: it imports
// sentence-wasm by its package name and nothing else. The bundler must find
// the worker and the .wasm by itself (new URL(..., import.meta.url)).
import { SentenceTransformer } from 'sentence-wasm';

const TEXTS = ['Hello world', 'A man is eating food.'];

async function main() {
  const out = document.getElementById('out');
  try {
    // The model folder is deployed next to the page, at ./model/.
    const model = await SentenceTransformer.load(new URL('./model/', document.baseURI).href, { cache: false });
    const embeddings = await model.encode(TEXTS);
    await model.dispose();
    window.result = { texts: TEXTS, embeddings: embeddings.map((e) => Array.from(e)), wasmBuild: model.wasmBuild };
    out.textContent = `${TEXTS.length} embeddings of ${embeddings[0].length} dimensions`;
  } catch (err) {
    window.result = { error: `${err.code}: ${err.message}` };
    out.textContent = `error: ${err.message}`;
  }
}

main();
