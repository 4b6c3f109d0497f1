// `npm run build`: builds the guest component with cargo (the same artifact
// host/build.rs embeds, through nexus-build's `nexus-component-wasm`) and
// transpiles it with jco into gen/, which is generated and not committed.
// `npm run build:floor` (`node scripts/build.js floor`) does the same for the
// bench-only floor component (bench/floor/: one export calling one storage
// import) into bench/floor/gen/: the same cargo profile, the same jco, the
// same options, so web/bench/ compares like with like.
//
// `instantiation: 'async'`: the page passes its own imports (storage, clock,
// WASI) to `instantiate` instead of the glue importing fixed modules.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

import { transpile } from '@bytecodealliance/jco';

const root = fileURLToPath(new URL('../..', import.meta.url));

const components = {
  nexus: { cargoPackage: 'nexus-component', name: 'nexus_component', out: new URL('../gen/', import.meta.url) },
  floor: { cargoPackage: 'nexus-web-floor', name: 'floor', out: new URL('../bench/floor/gen/', import.meta.url) },
};

async function build({ cargoPackage, name, out: outUrl }) {
  const out = fileURLToPath(outUrl);
  const printed = execFileSync(
    process.env.CARGO ?? 'cargo',
    ['run', '--quiet', '--package', 'nexus-build', '--bin', 'nexus-component-wasm', '--', cargoPackage],
    { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const wasm = printed.trim().split('\n').pop();

  const { files } = await transpile(readFileSync(wasm), {
    name,
    instantiation: 'async',
    outDir: out,
  });
  rmSync(out, { recursive: true, force: true });
  for (const [path, contents] of Object.entries(files)) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, contents);
  }
  console.error(`transpiled ${wasm}\n  into ${out} (${Object.keys(files).length} files)`);
}

const which = process.argv[2] ?? 'nexus';
if (!Object.hasOwn(components, which)) {
  console.error(`usage: node scripts/build.js [${Object.keys(components).join('|')}]`);
  process.exit(2);
}
await build(components[which]);
