import { ApplicationFailure } from '@temporalio/activity';
import type { z } from 'zod';

export const INVALID_INPUT = 'InvalidActivityInput';
/** The failure type of an activity of a run that no longer owns its commit (fenced out). */
export const RUN_SUPERSEDED = 'RunSuperseded';

/** Validates an activity input; invalid input will not get better on retry, so it is non-retryable. */
export function validateInput<T extends z.ZodType>(schema: T, input: unknown, activity: string): z.infer<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(
      `${activity}: invalid input: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ')}`,
      INVALID_INPUT,
    );
  }
  return parsed.data;
}
