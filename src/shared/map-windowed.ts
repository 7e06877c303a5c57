/**
 * Maps `items` through `fn` with at most `window` calls in flight, keeping result order.
 * Deterministic (no clocks or randomness), so workflows use it too: there a window keeps a commit
 * with thousands of uploads under Temporal's pending-activity limit; in activities it bounds I/O.
 */
export async function mapWindowed<T, R>(items: readonly T[], window: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(window, items.length)) }, lane));
  return results;
}
