export * from './backup-error';
export * from './backup-keys';
export * from './canonical';
export * from './chunked-cipher';
export * from './manifest';
export * from './snapshot-id';
export * from './snapshot-part';
export * from './snapshot-records';
