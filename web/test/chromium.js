// How the tests and the benchmark start Chromium: Debian's package (browsers
// cannot be downloaded here), headless, with nothing that reaches the
// network on its own.
export const CHROMIUM = process.env.NEXUS_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
