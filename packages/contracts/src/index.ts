export * from './common.js';
export * from './snapshot.js';
export * from './messages.js';
export * from './rest.js';
export * from './series.js';
export * from './alerts.js';
export * from './app.js';
export * from './tokens.js';
