// One tab owns a store. Two tabs writing through to one IndexedDB database
// would each hold their own in-memory map and overwrite each other's
// writes, so `Nexus.open` takes a Web Lock named after the database and
// holds it until `close()` or until the tab goes away. A second tab on the
// same origin waits (it is told through `onWaiting`) and opens the store,
// freshly loaded, the moment the first tab lets go.
//
// Where there is no Web Locks API (Node 20) there is no second tab either:
// the lock is a no-op.

/** Resolves, once this tab holds the store's lock, to the function that releases it. */
export async function holdStoreLock(name, onWaiting) {
  const locks = globalThis.navigator?.locks;
  if (!locks) return () => {};
  const lockName = `nexus:${name}`;
  let release;
  const held = new Promise((resolve) => {
    release = resolve;
  });
  const grantedAtOnce = await new Promise((resolve) => {
    locks.request(lockName, { ifAvailable: true }, (lock) => {
      resolve(lock !== null);
      return lock ? held : undefined;
    });
  });
  if (!grantedAtOnce) {
    onWaiting?.();
    await new Promise((resolve) => {
      locks.request(lockName, () => {
        resolve();
        return held;
      });
    });
  }
  return release;
}
