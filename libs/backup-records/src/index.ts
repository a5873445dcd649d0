export * from './backup-report';
export * from './backup-records';
export * from './backup-verification';
