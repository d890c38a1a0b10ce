/**
 * Growable typed arrays: the model stores one typed array per column and doubles it when a
 * batch does not fit, so appending live batches costs amortised O(1) per event and no
 * per-event objects are ever allocated.
 */
export type NumericArray = Float64Array | Int32Array | Int8Array | Uint8Array;

export function ensureCapacity<T extends NumericArray>(array: T, needed: number): T {
  if (needed <= array.length) return array;
  let capacity = Math.max(64, array.length);
  while (capacity < needed) capacity *= 2;
  const Ctor = array.constructor as new (n: number) => T;
  const bigger = new Ctor(capacity);
  bigger.set(array);
  return bigger;
}

/** An append-only list of int32 (span indices of one track, rows of exceptions, …). */
export class IntList {
  items: Int32Array;
  length = 0;

  constructor(initialCapacity = 16) {
    this.items = new Int32Array(initialCapacity);
  }

  push(value: number): void {
    if (this.length === this.items.length) this.items = ensureCapacity(this.items, this.length + 1);
    this.items[this.length++] = value;
  }

  at(index: number): number {
    return this.items[index];
  }

  toArray(): Int32Array {
    return this.items.slice(0, this.length);
  }
}
