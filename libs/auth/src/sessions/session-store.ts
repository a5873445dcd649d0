import { createHash, randomBytes } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import type { Role } from '@keyward/domain';

/**
 * A console session: a random token the browser holds in an httpOnly cookie, stored here only as
 * its SHA-256 (`_id`). It names the credential that opened it, never that credential's secret: each
 * request re-checks the credential (revoking the principal ends its sessions), and signing out
 * deletes the document.
 */
export interface SessionDocument {
  readonly _id: string;
  readonly tenantId: string;
  readonly principalId: string;
  readonly role: Role;
  readonly credentialId: string;
  readonly createdAt: string;
  readonly expiresAt: Date;
}

/** What opening a session answers: the token (for the cookie only) and the session as stored. */
export interface OpenedSession {
  readonly token: string;
  readonly session: SessionDocument;
}

const TOKEN_SHAPE = /^kws_[A-Za-z0-9_-]{43}$/;

/** The id a token is stored under (SHA-256, hex). */
export function sessionIdOf(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The CSRF token of a session: derived from its token, so only a holder of the cookie's value (the server) can compute it. */
export function csrfTokenOf(token: string): string {
  return createHash('sha256').update(`keyward-csrf\u0000${token}`).digest('base64url');
}

export function isSessionToken(value: string): boolean {
  return TOKEN_SHAPE.test(value);
}

export class SessionStore {
  readonly sessions: Collection<SessionDocument>;

  constructor(db: Db) {
    this.sessions = db.collection<SessionDocument>('console_sessions');
  }

  async open(
    principal: { tenantId: string; principalId: string; role: Role; credentialId: string },
    lifetimeMs: number,
    now = new Date(),
  ): Promise<OpenedSession> {
    const token = `kws_${randomBytes(32).toString('base64url')}`;
    const session: SessionDocument = {
      _id: sessionIdOf(token),
      tenantId: principal.tenantId,
      principalId: principal.principalId,
      role: principal.role,
      credentialId: principal.credentialId,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + lifetimeMs),
    };
    await this.sessions.insertOne(session, { writeConcern: { w: 'majority' } });
    // Sessions never presented again would stay: each sign-in sweeps the expired ones (a small collection).
    await this.sessions.deleteMany({ expiresAt: { $lte: now } });
    return { token, session };
  }

  /** The live session of a token (one read by `_id`); an expired one is deleted and answers undefined. */
  async find(token: string, now = new Date()): Promise<SessionDocument | undefined> {
    if (!isSessionToken(token)) return undefined;
    const id = sessionIdOf(token);
    const doc = await this.sessions.findOne({ _id: id });
    if (!doc) return undefined;
    if (doc.expiresAt.getTime() <= now.getTime()) {
      await this.sessions.deleteOne({ _id: id });
      return undefined;
    }
    return doc;
  }

  /** Whether a session is still open (not signed out, not expired): one read by `_id`. */
  async isOpen(sessionId: string, now = new Date()): Promise<boolean> {
    const doc = await this.sessions.findOne({ _id: sessionId });
    return doc !== null && doc.expiresAt.getTime() > now.getTime();
  }

  async close(sessionId: string): Promise<void> {
    await this.sessions.deleteOne({ _id: sessionId }, { writeConcern: { w: 'majority' } });
  }
}
