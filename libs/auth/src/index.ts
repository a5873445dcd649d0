export * from './api-key/api-key';
export * from './certificates/client-certificate';
export * from './credentials/api-key-authenticator';
export * from './credentials/credential-store';
export * from './limits/failure-lockout';
export * from './limits/token-buckets';
export * from './oidc/oidc-claims';
export * from './principal';
