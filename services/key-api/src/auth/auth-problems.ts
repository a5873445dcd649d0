import { ProblemError } from '@keyward/platform';

const CHALLENGE = 'Bearer realm="keyward"';

/** 401 without a usable bearer token. */
export function unauthenticated(oidc: boolean): ProblemError {
  return new ProblemError(
    401,
    'unauthenticated',
    'Authentication required',
    oidc
      ? 'send a valid API key ("Authorization: Bearer kw_…") or JWT ("Authorization: Bearer eyJ…")'
      : 'send a valid API key as "Authorization: Bearer kw_…"',
    {},
    { 'www-authenticate': CHALLENGE },
  );
}

/** 401 for a bearer token that was checked and refused; `detail` never says whether an API key exists. */
export function invalidToken(detail: string): ProblemError {
  return new ProblemError(
    401,
    'unauthenticated',
    'Authentication required',
    detail,
    {},
    {
      'www-authenticate': `${CHALLENGE}, error="invalid_token"`,
    },
  );
}

/** 401 for a valid credential of a principal bound to a client certificate the connection did not present. */
export function clientCertificateRequired(): ProblemError {
  return new ProblemError(
    401,
    'client-certificate-required',
    'Client certificate required',
    'this principal is bound to a client certificate: call over mutual TLS presenting that certificate',
    {},
    { 'www-authenticate': `${CHALLENGE}, error="invalid_token"` },
  );
}

/** 503 when the identity provider's keys cannot be fetched. */
export function identityProviderUnavailable(): ProblemError {
  return new ProblemError(
    503,
    'identity-provider-unavailable',
    'Service unavailable',
    'the identity provider signing keys (OIDC_JWKS_URL) cannot be fetched; retry shortly',
    {},
    { 'retry-after': '5' },
  );
}
