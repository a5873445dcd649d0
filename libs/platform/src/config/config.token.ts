export const KEYWARD_CONFIG = Symbol('KEYWARD_CONFIG');
