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
//
// Then five rewrites of jco's generated glue, the same for every component
// (the floor's too, so the benchmark still compares like with like). Each
// keeps what the glue does and removes a cost that allocating an
// ArrayBuffer or crossing into the browser's bindings puts on every call
// (micro-benchmarks on this machine, Chromium 156 / Node 20):
//
// - Lists (`list<u8>` keys and values, `list<u64>`) were lifted out of wasm
//   memory with `new Uint8Array(memory0.buffer.slice(ptr, ptr + len * 1))`:
//   `ArrayBuffer.prototype.slice` on a wasm memory's buffer costs ~1 µs /
//   ~0.5 µs, the same copy through a view
//   (`new Uint8Array(memory0.buffer, ptr, len).slice()`, a fresh array over
//   a buffer of its own, as before) ~80 ns. A GET lifts two lists (the key
//   handed to `storage.get`, the value answered), a getMany of 100 keys two
//   hundred: this copy was the largest single cost of both.
// - Strings were lowered with `TextEncoder.encode` (~1.5 µs / ~0.7 µs for
//   the 5 characters of a namespace name: a fresh Uint8Array each time)
//   before being copied into wasm memory. Short ASCII strings (every
//   namespace name, most event types and consumer names) are now written
//   into the memory directly, one byte per character, which is their UTF-8;
//   anything else still goes through TextEncoder.
// - `dataView(memory0)`, called for every field read or written in wasm
//   memory, read the memory's `buffer` (a call into the engine's bindings)
//   each time to see whether the memory had grown. A wasm memory that grows
//   detaches its old buffer, whose length becomes 0: that is what is
//   checked now, on the DataView already held.
// - Even so, the check is two getter calls into the engine per field, and
//   an export's answer (a GET's: the result, option, entry and version
//   tags, two list words) is several fields. Between the core call and its
//   post-return nothing runs wasm code, so the memory cannot grow: one
//   DataView, taken after the call, serves every read of the answer.
// - A u64 was lifted as `BigInt.asUintN(64, view.getBigInt64(…))`, two
//   BigInts; `view.getBigUint64(…)` makes the same value as one.
//
// jco is pinned (package.json); if its output no longer has the shape a
// rewrite expects, the build stops and says which.
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
    writeFileSync(path, path === `${out}${name}.js` ? rewrite(new TextDecoder().decode(contents), name) : contents);
  }
  console.error(`transpiled ${wasm}\n  into ${out} (${Object.keys(files).length} files)`);
}

const rewrites = [
  {
    what: 'lists lifted through a view',
    from: /new (\w+Array)\((memory\d+)\.buffer\.slice\((\w+), \3 \+ (\w+) \* \d+\)\)/g,
    to: (_, type, memory, ptr, len) => `new ${type}(${memory}.buffer, ${ptr}, ${len}).slice()`,
    left: '.buffer.slice(',
  },
  {
    what: 'short ASCII strings written directly',
    from: `    let buf = utf8Encoder.encode(s);
    let ptr = realloc(0, 0, 1, buf.length);`,
    to: `    ascii: if (s.length <= 64) {
      for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) break ascii;
      const ptr = realloc(0, 0, 1, s.length);
      const bytes = new Uint8Array(memory.buffer, ptr, s.length);
      for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
      utf8EncodedLen = s.length;
      return ptr;
    }
    let buf = utf8Encoder.encode(s);
    let ptr = realloc(0, 0, 1, buf.length);`,
  },
  {
    what: 'the DataView kept until its memory grows',
    from: `  let dv = new DataView(new ArrayBuffer());
  const dataView = mem => dv.buffer === mem.buffer ? dv : dv = new DataView(mem.buffer);`,
    to: `  let dv = new DataView(new ArrayBuffer());
  let dvMemory = null;
  const dataView = mem => dvMemory === mem && dv.buffer.byteLength !== 0 ? dv : (dvMemory = mem, dv = new DataView(mem.buffer));`,
  },
  {
    what: 'u64 read as one BigInt',
    from: /BigInt\.asUintN\(64, (dataView\(memory\d+\))\.getBigInt64\(([^()]*)\)\)/g,
    to: (_, view, args) => `${view}.getBigUint64(${args})`,
    left: 'BigInt.asUintN(64, dataView(',
    // A component without u64 results (the floor) has none to rewrite.
    optional: true,
  },
  {
    what: "an export's answer read through one DataView",
    // From the core call to its post-return, where nothing runs wasm code
    // (no realloc, no string lowering, no other export): the memory cannot
    // grow there, so the DataView of the first read serves every read.
    from: /(const ret = \w+\([^)]*\);\n)((?:(?!const ret = |function |realloc|utf8Encode|exports\d+\[)[\s\S])*?postReturn\d+\(ret\);)/g,
    to: (_, call, lift) => `${call}      const dvRet = dataView(memory0);\n${lift.replaceAll('dataView(memory0)', 'dvRet')}`,
  },
];

/** The glue with every rewrite applied (see the top of this file); each must apply. */
function rewrite(glue, name) {
  let out = glue;
  for (const { what, from, to, left, optional = false } of rewrites) {
    let applied = 0;
    if (typeof from === 'string') {
      applied = out.split(from).length - 1;
      if (applied === 1) out = out.replace(from, () => to);
    } else {
      out = out.replace(from, (...match) => {
        applied++;
        return to(...match);
      });
    }
    const expected = typeof from === 'string' ? applied === 1 : applied > 0 || optional;
    if (!expected || (left && out.includes(left))) {
      throw new Error(`${name}: jco's glue no longer has the shape scripts/build.js rewrites (${what}: ${applied} found)`);
    }
  }
  return out;
}

const which = process.argv[2] ?? 'nexus';
if (!Object.hasOwn(components, which)) {
  console.error(`usage: node scripts/build.js [${Object.keys(components).join('|')}]`);
  process.exit(2);
}
await build(components[which]);
