export * from './rate-limit-policy.schema.ts';
export * from './admission.types.ts';
export * from './admission-control.ts';
export * from './rate-limit.keys.ts';
export * from './deadline-queue.ts';
export * from './deadline-queue.codec.ts';
export * from './worker-registry.ts';
export * from './policy-document.schema.ts';
// The admission script's source, for driving it without Node (tools/bench/limiter.bench.ts, redis-benchmark).
export { ADMIT_LUA } from './admission.lua.ts';
export * from './policy-book.ts';
export * from './admission-terms.ts';
export * from './admission-gate.ts';
export * from './admission-fast-path.ts';
export * from './spend-budget.schema.ts';
export * from './spend-budgets.ts';
