// Source and target identity: captured at the start, checked on every reconnect and before every
// destructive action.
export {
  changedMessage,
  clientInfo,
  type GuardOptions,
  IdentityGuard,
  type InfoReader,
  readIdentity,
  respInfo,
  ServerChangedError,
  type Side,
} from './guard.js';
export {
  asIdentity,
  collapsed,
  type IdentityChange,
  type IdentityChangeKind,
  identityChange,
  parseIdentity,
  roleChange,
  type ServerIdentity,
} from './server-identity.js';
