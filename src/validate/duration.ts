// Durations as annotations write them: whole numbers of ms, s, m and h,
// concatenated (`5s`, `500ms`, `1m30s`, `1h`), as Go's time.ParseDuration
// reads the same text, but only whole numbers and no sign.

import { invalid, type Invalid } from './invalid.js';
import { quoted } from './quote.js';

/** The longest duration taken unless a caller says otherwise: one day. */
const DAY_MS = 24 * 60 * 60 * 1000;

const UNITS: ReadonlyArray<readonly [string, number]> = [
  ['ms', 1],
  ['s', 1000],
  ['m', 60_000],
  ['h', 3_600_000],
];

/** Milliseconds, more than 0 and at most `maxMs`; `Invalid` saying what is wrong otherwise. */
export function parseDuration(text: string, maxMs = DAY_MS, maxText = '24h'): number | Invalid {
  const notDuration = invalid(`${quoted(text)} is not a duration such as 5s, 500ms or 1m30s`);
  if (text.length === 0) return notDuration;
  let ms = 0;
  let i = 0;
  while (i < text.length) {
    let amount = 0;
    const start = i;
    for (let c = text.charCodeAt(i); c >= 48 && c <= 57; c = text.charCodeAt(++i)) {
      amount = Math.min(amount * 10 + (c - 48), maxMs + 1);
    }
    if (i === start) return notDuration;
    const unit = UNITS.find(([name]) => text.startsWith(name, i) && !(name === 'm' && text.startsWith('ms', i)));
    if (!unit) return notDuration;
    i += unit[0].length;
    ms = Math.min(ms + amount * unit[1], maxMs + 1);
  }
  if (ms <= 0) return invalid(`${quoted(text)} must be longer than 0`);
  if (ms > maxMs) return invalid(`${quoted(text)} is longer than ${maxText}`);
  return ms;
}
