// A small deterministic PRNG for tests (mulberry32): the same seed gives the
// same sequence, so a failing random case can be replayed by its seed.

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One element of a non-empty list, drawn from `r`. */
export function pick<T>(r: () => number, list: readonly T[]): T {
  if (list.length === 0) throw new Error('pick: empty list');
  return list[Math.floor(r() * list.length)] as T;
}
