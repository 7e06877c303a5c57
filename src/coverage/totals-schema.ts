/**
 * The totals as zod schemas, apart from src/coverage/totals.ts so that computing totals (the
 * parse command, the processor) does not load zod.
 */
import { z } from 'zod';
import type { CoverageTotals, ReportTotals } from './totals';

/** Activity contracts and the compare API: one shape for both (CoverageTotals, ReportTotals). */
export const CoverageTotalsSchema = z.object({
  files: z.number().int(),
  lines: z.number().int(),
  hits: z.number().int(),
  misses: z.number().int(),
  partials: z.number().int(),
  branches: z.number().int(),
  methods: z.number().int(),
  coverage: z.string(),
});
export const ReportTotalsSchema = CoverageTotalsSchema.extend({ sessions: z.number().int() });


// The schemas and the interfaces of totals.ts must describe the same shapes, both ways.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const shapesAgree: [Same<z.infer<typeof CoverageTotalsSchema>, CoverageTotals>, Same<z.infer<typeof ReportTotalsSchema>, ReportTotals>] = [true, true];
void shapesAgree;
