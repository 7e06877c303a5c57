import { randomUUID } from 'node:crypto';
import { OpenFeature } from '@openfeature/server-sdk';
import { UPLOAD_MODES, type ModeDecision, type UploadMode } from '../vocabulary';
import { ModeProvider, UPLOAD_MODE_FLAG, type ModeProviderOptions } from './mode-provider';

export type ModeDecider = (repository: string) => Promise<ModeDecision>;

/**
 * Evaluates the `upload-mode` flag through the OpenFeature SDK with our provider. Each decider
 * registers its provider under a domain of its own, so several workers (or tests) in one process
 * never share one global provider.
 */
export async function createModeDecider(options: ModeProviderOptions): Promise<ModeDecider> {
  const domain = `tributary-${randomUUID()}`;
  await OpenFeature.setProviderAndWait(domain, new ModeProvider(options));
  const client = OpenFeature.getClient(domain);
  return async (repository) => {
    const details = await client.getStringDetails(UPLOAD_MODE_FLAG, options.defaultMode, { targetingKey: repository });
    const mode = (UPLOAD_MODES as readonly string[]).includes(details.value) ? (details.value as UploadMode) : options.defaultMode;
    const meta = details.flagMetadata as { source?: string; bucket?: number; proportion?: number };
    let reason: string;
    if (details.errorCode) reason = `flag evaluation failed (${details.errorCode}${details.errorMessage ? `: ${details.errorMessage}` : ''}); default ${mode}`;
    else if (meta.source === 'override') reason = `repository override: ${mode}`;
    else if (meta.source === 'rollout')
      reason = `rollout: ${mode} for ${((meta.proportion ?? 0) * 100).toFixed(1)}% of repositories (bucket ${(meta.bucket ?? 0).toFixed(4)})`;
    else reason = `default mode: ${mode}`;
    return { mode, reason };
  };
}
