/** Identifier shapes accepted at every edge: short, URL-safe, never a path. */
export const ID_PATTERN = /^[a-z][a-z0-9]{0,15}_[A-Za-z0-9]{8,40}$/;
export const ALIAS_PATTERN = /^[A-Za-z0-9][A-Za-z0-9/_.-]{0,127}$/;
export const LABEL_KEY_PATTERN = /^[a-z][a-z0-9_-]{0,62}$/;
export const MAX_LABELS = 32;
export const MAX_LABEL_VALUE = 256;
export const MAX_DESCRIPTION = 1024;
