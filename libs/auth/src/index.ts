export * from './api-key/api-key';
export * from './credentials/api-key-authenticator';
export * from './credentials/credential-store';
export * from './principal';
