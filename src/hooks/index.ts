// Hooks: runbook steps that act outside Redis (a command line or a webhook).
export { credentialedUrl, hookEnvironment } from './env.js';
export {
  type HookExecutorOptions,
  hookStepExecutor,
  repointExecutor,
  repointHook,
} from './executors.js';
export { BoundedOutput } from './output.js';
export { placeHooks } from './place.js';
export { describeHook, findHook, runHook } from './run.js';
export type { HookConfig, HookInvocation, HookOutcome, HookPoint, HookRunOptions } from './types.js';
export {
  SIGNATURE_HEADER,
  signWebhook,
  TIMESTAMP_HEADER,
  verifyWebhookSignature,
  webhookBody,
} from './webhook.js';
