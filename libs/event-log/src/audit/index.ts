export * from './audit-event';
export * from './chain-audit';
export * from './checkpoint-signature';
export * from './export-format';
export * from './point-in-time';
