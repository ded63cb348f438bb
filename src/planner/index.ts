export { DEFAULT_PLAN_OPTIONS, withDefaults } from './defaults.js';
export { formatPlan } from './format.js';
export { planMigration } from './plan.js';
export * from './types.js';
