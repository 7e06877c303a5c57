import { z } from 'zod';

export const IdempotencyKeySchema = z.string().min(1).max(400).optional();

/** A multipart request's part `index` is keyed `<key>:<index>`, kept apart from raw uploads by scope. */
export function partKey(key: string, index: number): string {
  return `${key}:${index}`;
}

/** The request's key and the part index of a key made by partKey. */
export function splitPartKey(stored: string): { key: string; part: string } {
  const at = stored.lastIndexOf(':');
  return { key: stored.slice(0, at), part: stored.slice(at + 1) };
}
