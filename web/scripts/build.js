// `npm run build`: builds the guest component with cargo (the same artifact
// host/build.rs embeds, through nexus-build's `nexus-component-wasm`) and
// transpiles it with jco into gen/, which is generated and not committed.
//
// `instantiation: 'async'`: the page passes its own imports (storage, clock,
// WASI) to `instantiate` instead of the glue importing fixed modules.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

import { transpile } from '@bytecodealliance/jco';

const root = fileURLToPath(new URL('../..', import.meta.url));
const out = fileURLToPath(new URL('../gen/', import.meta.url));

const printed = execFileSync(
  process.env.CARGO ?? 'cargo',
  ['run', '--quiet', '--package', 'nexus-build', '--bin', 'nexus-component-wasm', '--', 'nexus-component'],
  { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
);
const wasm = printed.trim().split('\n').pop();

const { files } = await transpile(readFileSync(wasm), {
  name: 'nexus_component',
  instantiation: 'async',
  outDir: out,
});
rmSync(out, { recursive: true, force: true });
for (const [path, contents] of Object.entries(files)) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, contents);
}
console.error(`transpiled ${wasm}\n  into ${out} (${Object.keys(files).length} files)`);
