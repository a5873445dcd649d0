export * from './pki/local-ca';
