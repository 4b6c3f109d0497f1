// The WASI interfaces the guest imports besides its own (`wasi:cli/*` for
// stdio, environment and exit; `wasi:io/*` for the stream types;
// `wasi:random/random` for token secrets, from the Web Crypto API), from
// @bytecodealliance/preview2-shim. Its browser build is used everywhere, in
// Node too, so `node --test` runs exactly what the page runs (the Node build
// does its I/O on a worker thread). It is imported by a path relative to this
// file, which resolves the same way in Node and in a page served from web/.
//
// The guest writes only panic messages to stderr; they are captured here so
// that a trap can be reported with its reason instead of vanishing into the
// console.
import * as cli from '../node_modules/@bytecodealliance/preview2-shim/lib/browser/cli.js';
import * as io from '../node_modules/@bytecodealliance/preview2-shim/lib/browser/io.js';
import * as random from '../node_modules/@bytecodealliance/preview2-shim/lib/browser/random.js';

const decoder = new TextDecoder();
let stderrText = '';

cli._setStderr({
  write(contents) {
    stderrText += decoder.decode(contents);
    return BigInt(contents.length);
  },
  blockingFlush() {},
});
cli._setStdout({
  write(contents) {
    return BigInt(contents.length);
  },
  blockingFlush() {},
});

/** Returns what the guest wrote to stderr since the last call, and forgets it. */
export function takeStderr() {
  const text = stderrText;
  stderrText = '';
  return text.trim();
}

/** The `wasi:*` part of the import object, keyed as jco's glue looks them up. */
export const wasiImports = {
  'wasi:cli/environment': cli.environment,
  'wasi:cli/exit': cli.exit,
  'wasi:cli/stdin': cli.stdin,
  'wasi:cli/stdout': cli.stdout,
  'wasi:cli/stderr': cli.stderr,
  'wasi:cli/terminal-input': cli.terminalInput,
  'wasi:cli/terminal-output': cli.terminalOutput,
  'wasi:cli/terminal-stdin': cli.terminalStdin,
  'wasi:cli/terminal-stdout': cli.terminalStdout,
  'wasi:cli/terminal-stderr': cli.terminalStderr,
  'wasi:io/error': io.error,
  'wasi:io/poll': io.poll,
  'wasi:io/streams': io.streams,
  'wasi:random/random': random.random,
};
