import type { EvaluationContext, JsonValue, Provider, ResolutionDetails } from '@openfeature/server-sdk';
import { ErrorCode, StandardResolutionReasons } from '@openfeature/server-sdk';
import { UPLOAD_MODES, type UploadMode } from '../vocabulary';
import { decideRollout, type Rollout } from './rollout';

export const UPLOAD_MODE_FLAG = 'upload-mode';

export interface ModeProviderOptions {
  /** Per-repository override (from the database), or null. */
  getOverride(repository: string): Promise<UploadMode | null>;
  rollout: Rollout;
  salt: string;
  defaultMode: UploadMode;
}

/**
 * Tributary's OpenFeature provider for the `upload-mode` flag: a repository's override wins, then
 * the rollout proportions, then the configured default. The targeting key is the repository slug.
 */
export class ModeProvider implements Provider {
  readonly metadata = { name: 'tributary-mode-provider' } as const;
  readonly runsOn = 'server';

  constructor(private readonly options: ModeProviderOptions) {}

  async resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext): Promise<ResolutionDetails<string>> {
    if (flagKey !== UPLOAD_MODE_FLAG) {
      return { value: defaultValue, reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.FLAG_NOT_FOUND };
    }
    const repository = context.targetingKey;
    if (!repository) {
      return { value: defaultValue, reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.TARGETING_KEY_MISSING };
    }
    const override = await this.options.getOverride(repository);
    if (override && (UPLOAD_MODES as readonly string[]).includes(override)) {
      return { value: override, variant: override, reason: StandardResolutionReasons.TARGETING_MATCH, flagMetadata: { source: 'override' } };
    }
    const rolled = decideRollout(repository, this.options.rollout, this.options.salt);
    if (rolled) {
      return {
        value: rolled.mode,
        variant: rolled.mode,
        reason: StandardResolutionReasons.SPLIT,
        flagMetadata: { source: 'rollout', bucket: rolled.bucket, proportion: rolled.proportion },
      };
    }
    return {
      value: this.options.defaultMode,
      variant: this.options.defaultMode,
      reason: StandardResolutionReasons.DEFAULT,
      flagMetadata: { source: 'default' },
    };
  }

  async resolveBooleanEvaluation(_: string, defaultValue: boolean): Promise<ResolutionDetails<boolean>> {
    return { value: defaultValue, reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.FLAG_NOT_FOUND };
  }

  async resolveNumberEvaluation(_: string, defaultValue: number): Promise<ResolutionDetails<number>> {
    return { value: defaultValue, reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.FLAG_NOT_FOUND };
  }

  async resolveObjectEvaluation<T extends JsonValue>(_: string, defaultValue: T): Promise<ResolutionDetails<T>> {
    return { value: defaultValue, reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.FLAG_NOT_FOUND };
  }
}
