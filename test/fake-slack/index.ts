export * from './block-kit.js';
export * from './http-client.js';
export * from './payloads.js';
export * from './server.js';
export * from './signed-request.js';
