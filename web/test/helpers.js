// Shared by the Node tests: a store in memory on a manual clock, and a
// snapshot of its storage to prove that a refusal wrote nothing.
import { ManualClock, Nexus } from '../src/nexus.js';
import { toKey } from '../src/storage.js';

export async function openMemory() {
  const clock = new ManualClock();
  const nexus = await Nexus.open({ persist: 'memory', clock, tickEveryMs: 0 });
  return { nexus, clock };
}

export function snapshot(nexus) {
  return [...nexus.storage.entries()].map(([k, v]) => `${toKey(k)}=${toKey(v)}`);
}
