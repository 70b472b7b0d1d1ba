export * from './models';
export * from './mappers';
export * from './organization.repository';
export * from './organization-secrets';
export * from './user.repository';
export * from './sync-run.repository';
export * from './inventory.repository';
export * from './sync-control.repository';
