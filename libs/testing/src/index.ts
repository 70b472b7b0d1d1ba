export * from './test-env';
export * from './gate';
export * from './third-party-stub';
export * from './loose-organization-body';
export * from './redis-cluster';
export * from './private-servers';
export * from './ports';
export * from './log-capture';
