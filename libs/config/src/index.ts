export * from './keyward-config';
export * from './load-config';
export * from './settings.schema';
export * from './kafka-security';
