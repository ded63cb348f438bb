// Verification engine: compares a target with its source, both ways. Contract: .tmp/ENGINE_API.md.

export {
  type DbCounts,
  DIFFERENCE_CLASSES,
  type DifferenceClass,
  type DifferenceSample,
  type VerifyOptions,
  type VerifyProgress,
  type VerifyReport,
} from './types.js';
export { verify } from './verify.js';
