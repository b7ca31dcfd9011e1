// A small seeded PRNG (mulberry32) so fault injection is repeatable: the same seed and the same
// sequence of requests give the same faults.

/**
 * @typedef {object} Random
 * @property {() => number} next              a float in [0, 1)
 * @property {(min: number, max: number) => number} int   an integer in [min, max]
 * @property {(n: number, k: number) => number[]} sample  k distinct indexes of 0..n-1, ascending
 */

/**
 * @param {number} seed any integer
 * @returns {Random}
 */
export function createRandom(seed) {
  let state = Number.isFinite(seed) ? Math.trunc(seed) >>> 0 : 1;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min, max) => min + Math.floor(next() * (max - min + 1));
  const sample = (n, k) => {
    const pool = Array.from({ length: n }, (_, i) => i);
    const count = Math.min(Math.max(k, 0), n);
    for (let i = 0; i < count; i++) {
      const j = int(i, n - 1);
      [pool[i], pool[j]] = [pool[j], pool[i]];
    }
    return pool.slice(0, count).sort((a, b) => a - b);
  };
  return { next, int, sample };
}
