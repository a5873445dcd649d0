export * from './material/generate-material';
export * from './material/key-check-value';
export * from './pki/local-ca';
