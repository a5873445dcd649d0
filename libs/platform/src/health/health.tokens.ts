/** Services add their own readiness checks (for example "sealed") under this token. */
export const EXTRA_READINESS_CHECKS = Symbol('EXTRA_READINESS_CHECKS');
