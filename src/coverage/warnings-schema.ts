import { z } from 'zod';
import { MAX_WARNING_POSITIONS, PARSE_WARNING_CODES, type ParseWarning, type ParseWarningCode, type ParseWarningPosition } from './warnings';

/** The zod schemas of warnings.ts's shapes: stored warnings (uploads.warnings), the API's answers. */
export const ParseWarningCodeSchema = z.enum(PARSE_WARNING_CODES);

export const ParseWarningPositionSchema = z.object({
  line: z.number().int().positive().optional(),
  column: z.number().int().positive().optional(),
  offset: z.number().int().nonnegative().optional(),
  path: z.string().max(1000).optional(),
  source: z.string().max(1000).optional(),
  field: z.string().max(100).optional(),
});

export const ParseWarningSchema = z.object({
  code: ParseWarningCodeSchema,
  count: z.number().int().positive(),
  positions: z.array(ParseWarningPositionSchema).max(MAX_WARNING_POSITIONS),
});

/** One upload's warnings: at most one entry per code, in the order of `PARSE_WARNING_CODES`. */
export const ParseWarningsSchema = z.array(ParseWarningSchema).max(PARSE_WARNING_CODES.length);

// The schemas and the types of warnings.ts must describe the same shapes, both ways.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const shapesAgree: [
  Same<z.infer<typeof ParseWarningCodeSchema>, ParseWarningCode>,
  Same<z.infer<typeof ParseWarningPositionSchema>, ParseWarningPosition>,
  Same<z.infer<typeof ParseWarningSchema>, ParseWarning>,
] = [true, true, true];
void shapesAgree;
