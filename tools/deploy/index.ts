// Public API of the deployment tools (tests/deploy reads the app table and the generators).
export * from './apps.ts';
export * from './manifests.ts';
export * from './outputs.ts';
export * from './topology-script.ts';
export * from './secrets.ts';
export * from './observability.ts';
