// The worker's workflow bundle: every workflow type the task queue serves.
export { commitWorkflow } from './commit-workflow';
export { shadowParallelWorkflow } from './batch-paths';
export { reverifyCommitWorkflow, reverifyWorkflow } from './reverify-workflow';
