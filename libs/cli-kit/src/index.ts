export * from './command';
export * from './error-exit';
export * from './errors';
export * from './exit-codes';
export * from './help';
export * from './options';
export * from './progress-bar';
