import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Repository root (this file lives in src/temporal or dist/temporal). */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

export interface TemporalTools {
  /** The Temporal CLI binary (dev server + Web UI), or undefined to let the SDK download one. */
  temporalCli?: string;
  /** The time-skipping test server wrapper, or undefined to let the SDK download one. */
  testServer?: string;
}

/** Paths provided by scripts/temporal-tools.mjs, with the environment overrides applied. */
export function temporalTools(env: Record<string, string | undefined> = process.env): TemporalTools {
  let manifest: { temporalCli?: string | null; testServer?: string | null } = {};
  const manifestPath = path.join(PROJECT_ROOT, '.tools', 'tools.json');
  if (existsSync(manifestPath)) manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as typeof manifest;
  const fromManifest = (p: string | null | undefined) => (p ? path.resolve(PROJECT_ROOT, p) : undefined);
  return {
    temporalCli: env.TEMPORAL_CLI_PATH ? path.resolve(env.TEMPORAL_CLI_PATH) : fromManifest(manifest.temporalCli),
    testServer: env.TEMPORAL_TEST_SERVER_PATH ? path.resolve(env.TEMPORAL_TEST_SERVER_PATH) : fromManifest(manifest.testServer),
  };
}
