export * from './approval.js';
export * from './endpoints.js';
export * from './error.js';
export * from './help.js';
export * from './limits.js';
export * from './message.js';
export * from './status-card.js';
export * from './text.js';
