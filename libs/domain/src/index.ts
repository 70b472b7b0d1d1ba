export * from './mapping-spec';
export * from './organization';
export * from './inventory-item';
export * from './sync-run';
export * from './delivery';
export * from './user';
export * from './ids';
export * from './content-hash';
