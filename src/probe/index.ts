// Public entry of the probe: what other parts of the app use.
export { type BigKeyOptions, DEFAULT_BIG_KEY_SAMPLES } from './big-keys.js';
export { type ProbeOptions, probeEndpoint, probeWith } from './probe.js';
export { formatProbeReport } from './report.js';
export * from './types.js';
