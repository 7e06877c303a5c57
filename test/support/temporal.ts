import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import path from 'node:path';
import { temporalTools } from '../../src/temporal/tools';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes';
import { devServerDynamicConfigArgs } from '../../src/temporal/dev-server';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';

const tools = temporalTools();

// Workers log each batch at INFO; tests keep the output for warnings and failures.
try {
  Runtime.install({ logger: new DefaultLogger((process.env.LOG_LEVEL as 'WARN' | undefined) ?? 'WARN') });
} catch {
  // already installed by this process
}

/** The Java time-skipping server built by scripts/temporal-tools.mjs (or the SDK download). */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: tools.testServer ? { executable: { type: 'existing-path', path: tools.testServer } } : undefined,
  });
  // This server needs custom search attributes registered before workflows upsert them.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTES.map((k) => [k.name, encodeSearchAttributeIndexedValueType(k.type)!])),
  });
  return env;
}

/** A real Temporal dev server (the CLI), with the project's search attributes. */
/** `uiPort`: also serve the Temporal Web UI there (the pages' workflow links are followed into it). */
export async function createDevServerEnv(opts: { uiPort?: number } = {}): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: tools.temporalCli ? { type: 'existing-path', path: tools.temporalCli } : undefined,
      searchAttributes: SEARCH_ATTRIBUTES,
      extraArgs: devServerDynamicConfigArgs(),
      ...(opts.uiPort !== undefined ? { ui: true, uiPort: opts.uiPort } : {}),
    },
  });
}

/** One workflow bundle per test file, shared by its workers. */
export function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath: path.resolve(__dirname, '../../src/workflows'),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error },
  });
}

