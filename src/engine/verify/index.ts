// Verification engine: compares a target with its source, both ways. Contract: .tmp/ENGINE_API.md.

export {
  type DbCounts,
  DEFAULT_TTL_TOLERANCE_MS,
  DIFFERENCE_CLASSES,
  type DifferenceClass,
  type DifferenceSample,
  type VerifyOptions,
  type VerifyProgress,
  type VerifyReport,
} from './types.js';
export { verify } from './verify.js';
