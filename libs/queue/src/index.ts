export * from './queue-names';
export * from './payloads';
export * from './queue-factory';
export * from './jobs';
