// The worker's workflow bundle: every workflow type the task queue serves.
export { commitWorkflow } from './commit-workflow';
export { shadowParallelWorkflow } from './batch-paths';
export { gcWorkflow, reconcileWorkflow } from './maintenance';
export { reverifyCommitWorkflow, reverifyWorkflow } from './reverify-workflow';
export { notifyWorkflow } from './notify-workflow';
