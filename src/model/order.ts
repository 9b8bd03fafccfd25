// Ordering helpers. Array.prototype.sort allocates its own working state on
// every call; a build sorts tens of thousands of tiny arrays (the endpoints
// of a Service port, the rules of a host), so those get an insertion sort
// that allocates nothing. Both are stable.

/** Code-unit order, the same on every machine (no locale). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const SMALL = 16;

/** Sorts in place and returns the array. */
export function sortInPlace<T>(items: T[], compare: (a: T, b: T) => number): T[] {
  if (items.length > SMALL) return items.sort(compare);
  for (let i = 1; i < items.length; i++) {
    const item = items[i] as T;
    let j = i - 1;
    while (j >= 0 && compare(items[j] as T, item) > 0) {
      items[j + 1] = items[j] as T;
      j--;
    }
    items[j + 1] = item;
  }
  return items;
}
