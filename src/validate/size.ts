// Sizes as Kubernetes writes them for memory and volumes (`256Mi`, `1Gi`,
// `500M`, `1048576`): whole numbers with an optional binary (Ki, Mi, Gi, Ti)
// or decimal (k, M, G, T) suffix. No fractions, exponents or signs.

import { invalid, type Invalid } from './invalid.js';
import { quoted } from './quote.js';

const SUFFIXES: Readonly<Record<string, number>> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

const SIZE = /^([0-9]{1,15})(k|M|G|T|Ki|Mi|Gi|Ti)?$/;

/** Bytes, from `min` to `max`; `Invalid` saying what is wrong otherwise. */
export function parseByteSize(text: string, min = 0, max = 2 ** 50): number | Invalid {
  const m = SIZE.exec(text);
  if (!m) return invalid(`${quoted(text)} is not a size such as 256Mi, 1Gi or 500M`);
  const bytes = Number(m[1]) * SUFFIXES[m[2] ?? '']!;
  if (bytes < min) return invalid(`${quoted(text)} is less than ${formatBytes(min)}`);
  if (bytes > max) return invalid(`${quoted(text)} is more than ${formatBytes(max)}`);
  return bytes;
}

/** 268435456 → "256Mi"; sizes that are no whole number of KiB stay in bytes. */
export function formatBytes(bytes: number): string {
  for (const [suffix, unit] of [['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) {
    if (bytes >= unit && bytes % unit === 0) return `${bytes / unit}${suffix}`;
  }
  return String(bytes);
}
