// The floor component (bench/floor/: one export, `get(key)`, calling one
// import, `storage.get(key)`), transpiled by `npm run build:floor` with the
// jco and options of the nexus component, instantiated as component.js
// instantiates nexus: the same WASI imports, the storage import bound the
// same way, over an `OrderedStorage` (src/storage.js).
import { compile } from '../src/component.js';
import { wasiImports } from '../src/wasi.js';

const compiled = new Map();

function coreModule(name) {
  if (!compiled.has(name)) compiled.set(name, compile(new URL(`./floor/gen/${name}`, import.meta.url)));
  return compiled.get(name);
}

/** Resolves to the floor's exports, `{ get(key) }`, reading from `storage`. */
export async function startFloor(storage) {
  let glue;
  try {
    glue = await import('./floor/gen/floor.js');
  } catch (e) {
    throw new Error(`the floor component is not built: run \`npm run build:floor\` (${e.message})`, { cause: e });
  }
  return glue.instantiate(coreModule, {
    ...wasiImports,
    'nexus:floor/storage': { get: (key) => storage.get(key) },
  });
}
