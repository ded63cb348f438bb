export {
  isInfrastructure,
  isOurs,
  type KillResult,
  killClients,
  listSourceClients,
  parseClientList,
  type SourceClient,
} from './clients.js';
export {
  CutoverError,
  type CutoverOptions,
  type CutoverPhase,
  type CutoverReport,
  cutover,
  type Drainable,
  type RepointContext,
} from './cutover.js';
export {
  DEFAULT_PAUSE_TIMEOUT_MS,
  pauseRemainingMs,
  pauseWrites,
  type ResumeResult,
  resumeWrites,
  type WritePause,
} from './pause.js';
export {
  describeClientsByNode,
  type EveryPause,
  type EveryResume,
  listClientsByNode,
  type PausedNode,
  PauseNotEverywhereError,
  pauseEveryNode,
  resumeEveryNode,
} from './pause-every.js';
