import type { BatchUpload } from '../activities/contracts';

/**
 * Runs of consecutive uploads (in claim order) for the processors: one upload each until the
 * batch holds two per window lane (a small batch's latency stays one parse), else chunks of at
 * most `processChunk`, never fewer chunks than the window has lanes. Pure and deterministic: the
 * workflow computes it.
 */
export function processorChunks(uploads: readonly BatchUpload[], maxParallel: number, processChunk = 1): BatchUpload[][] {
  const size = Math.max(1, Math.min(processChunk, Math.floor(uploads.length / Math.max(1, maxParallel))));
  const chunks: BatchUpload[][] = [];
  for (let i = 0; i < uploads.length; i += size) chunks.push(uploads.slice(i, i + size));
  return chunks;
}
