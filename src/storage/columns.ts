import { z } from 'zod';
import { UploadIdSchema } from '../vocabulary';

/** What the store's inputs must fit into: the columns' own ranges, checked before any SQL runs. */

/** An `integer` column's non-negative range. */
export const Int32 = z.number().int().nonnegative().max(2_147_483_647);

/** Any JSON value (what jsonb columns hold); `undefined` has no JSON form and is refused. */
export const JsonValue = z.unknown().refine((v) => v !== undefined && JSON.stringify(v) !== undefined, 'expected a JSON value');

/** Upload ids one statement takes at once (`= ANY($1::text[])`). */
export const UploadIdList = z.array(UploadIdSchema).max(100_000);
