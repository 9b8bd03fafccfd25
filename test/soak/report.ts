// Printing and checking for the soak scenarios: '# ' lines (what node --test
// shows as diagnostics, and what `npm run soak` prints), and named checks
// collected over a whole run so that one failure does not hide the others.

import assert from 'node:assert/strict';

export type Print = (line: string) => void;

export const print: Print = (line) => console.log(`# ${line}`);

export class Checks {
  readonly #failed: string[] = [];
  readonly #passed: string[] = [];

  /** Records a named invariant; `detail` says what was seen when it does not hold. */
  check(name: string, ok: boolean, detail: () => string = () => ''): void {
    if (ok) this.#passed.push(name);
    else this.#failed.push(`${name}: ${detail()}`);
  }

  get passed(): readonly string[] {
    return this.#passed;
  }

  get failed(): readonly string[] {
    return this.#failed;
  }

  /** Fails with every check that did not hold. */
  assertAll(): void {
    assert.deepEqual(this.#failed, [], `${this.#failed.length} of ${this.#failed.length + this.#passed.length} checks failed:\n  ${this.#failed.join('\n  ')}`);
  }
}

/** Milliseconds, rounded for printing. */
export const fmtMs = (x: number): string => (x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x * 10) / 10} ms`);

/** A small deterministic PRNG (mulberry32): the same seed, the same churn. */
export { rng } from '../../src/testing/random.js';
