/**
 * The console's only way to the server: the public API, same origin, authenticated by the session
 * cookie (httpOnly: this code never sees it). Changes carry the session's CSRF token, which lives
 * in memory only. The API key is sent once, at sign-in, and never kept.
 */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
}

export interface Session {
  readonly principalId: string;
  readonly tenantId: string;
  readonly role: 'provider-admin' | 'tenant-admin' | 'key-user' | 'auditor' | 'kmip-client';
  readonly expiresAt: string;
  readonly csrfToken: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
  ) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
  }
}

let session: Session | undefined;
let onSignedOut: () => void = () => undefined;

export function currentSession(): Session | undefined {
  return session;
}

/** Called when the server refuses the session (expired, signed out elsewhere, principal revoked). */
export function whenSignedOut(listener: () => void): void {
  onSignedOut = listener;
}

async function send(method: string, path: string, body: unknown, headers: Record<string, string>): Promise<Response> {
  const init: RequestInit = { method, credentials: 'same-origin', headers: { accept: 'application/json', ...headers } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  return fetch(path, init);
}

async function answerOf<T>(response: Response): Promise<T> {
  const text = await response.text();
  const parsed: unknown = text.length > 0 ? JSON.parse(text) : undefined;
  if (!response.ok) throw new ApiError(response.status, parsed as Problem | undefined);
  return parsed as T;
}

/** Calls a route of the public API with the session cookie; a 401 signs the console out. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = {};
  if (method !== 'GET' && session) headers['x-csrf-token'] = session.csrfToken;
  const response = await send(method, path, body, headers);
  if (response.status === 401) {
    session = undefined;
    onSignedOut();
  }
  return { status: response.status, body: await answerOf<T>(response) };
}

/** Exchanges an API key for a session cookie; the key is used for this one request only. */
export async function signIn(apiKey: string): Promise<Session> {
  const response = await send('POST', '/v1/session', undefined, { authorization: `Bearer ${apiKey.trim()}` });
  session = await answerOf<Session>(response);
  return session;
}

/** The session the cookie holds, if any (after a reload). */
export async function resume(): Promise<Session | undefined> {
  const response = await send('GET', '/v1/session', undefined, {});
  if (!response.ok) return undefined;
  session = await answerOf<Session>(response);
  return session;
}

export async function signOut(): Promise<void> {
  if (session) await send('DELETE', '/v1/session', undefined, { 'x-csrf-token': session.csrfToken });
  session = undefined;
}

/** `path?query` with the defined values of `params`. */
export function withQuery(path: string, params: Record<string, string | number | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== '') query.set(name, String(value));
  const text = query.toString();
  return text.length > 0 ? `${path}?${text}` : path;
}
