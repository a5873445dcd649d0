import { Inject, Injectable, Logger } from '@nestjs/common';
import { CredentialStore, TokenBuckets } from '@keyward/auth';
import type { KeywardConfig } from '@keyward/config';
import { DomainError, enrollmentRefusal, type ApprovalState, type DirectCommand, type EnrollmentKey, type Role } from '@keyward/domain';
import { CommandExecutor } from '@keyward/event-log';
import { businessNow, KEYWARD_CONFIG, ProblemError } from '@keyward/platform';
import { gated, pendingOf } from '../dual-control/approval-gate';
import type { Caller } from '../platform/caller';
import { contextOf } from '../platform/decision-context';
import { RootKeyService } from '@keyward/keys';
import { ENROLLMENT_WRAPPING, wrapForEnrollment } from './enrollment-key';
import { newEnrollmentToken, parseEnrollmentToken } from './enrollment-token';

/** What the creator of a principal receives instead of its API key: a token only the new principal should redeem. */
export interface Enrollment {
  readonly token: string;
  readonly expiresAt: string;
  /** Set when the API key will be wrapped under this public key: compare it with the new principal's. */
  readonly publicKeyFingerprint?: string;
}

export type EnrollmentIssue =
  | { readonly seq: number; readonly enrollment: Enrollment }
  | { readonly seq: number; readonly pendingApproval: ApprovalState<DirectCommand>; readonly enrollment: Enrollment };

/** What the new principal receives, once: its API key, in the clear or wrapped under its public key. */
export type Redeemed = {
  readonly seq: number;
  readonly principalId: string;
  readonly tenantId: string;
  readonly role: Role;
} & ({ readonly apiKey: string } | { readonly wrappedApiKey: string; readonly wrapping: typeof ENROLLMENT_WRAPPING });

/** Where a redemption comes from. */
export interface RedemptionClient {
  readonly address: string;
  readonly userAgent?: string;
  readonly requestId: string;
}

/** One answer for wrong, expired, revoked or unknown: it tells a guesser nothing. */
const invalidToken = (): ProblemError =>
  new ProblemError(401, 'invalid-enrollment-token', 'Invalid enrollment token', 'the enrollment token is not valid or has expired');

const usedToken = (): ProblemError =>
  new ProblemError(
    409,
    'enrollment-token-used',
    'Enrollment token used',
    'this enrollment token has been redeemed already; if that was not you, tell your administrator: the redemption is in the tenant log',
  );

@Injectable()
export class EnrollmentService {
  private readonly logger = new Logger('enrollment');
  private readonly attempts: TokenBuckets;

  constructor(
    @Inject(KEYWARD_CONFIG) private readonly config: KeywardConfig,
    private readonly executor: CommandExecutor,
    private readonly credentials: CredentialStore,
    private readonly root: RootKeyService,
  ) {
    const perMinute = config.auth.enrollment.perAddressPerMinute;
    this.attempts = new TokenBuckets(perMinute / 60, perMinute, 10_000);
  }

  /**
   * Issues an enrollment token for a principal of `logId` (its first, right after creation, or a
   * new one replacing an unredeemed one: for an administrator that is dual-controlled, and the
   * token then works once the approval executes). Answers the token, once.
   */
  async issue(logId: string, principalId: string, caller: Caller, enrollmentKey?: EnrollmentKey): Promise<EnrollmentIssue> {
    const { token, tokenHash } = newEnrollmentToken(logId, principalId);
    const expiresAt = new Date(businessNow().getTime() + this.config.auth.enrollment.ttlHours * 3_600_000).toISOString();
    const command = await gated(
      { kind: 'principal.issue-enrollment', principalId, tokenHash, expiresAt, ...(enrollmentKey ? { enrollmentKey } : {}) },
      this.executor,
    );
    const executed = await this.executor.execute(logId, command, contextOf(caller));
    const pendingApproval = pendingOf(executed);
    const key = enrollmentKey ?? executed.log.principals.get(principalId)?.enrollmentKey;
    const enrollment: Enrollment = { token, expiresAt, ...(key ? { publicKeyFingerprint: key.fingerprint } : {}) };
    return pendingApproval ? { seq: executed.seq, pendingApproval, enrollment } : { seq: executed.seq, enrollment };
  }

  /**
   * Redeems a token for the principal's API key: once, before it expires, recorded in the log with
   * the client's address. Refused redemptions spend the calling address's budget; an empty budget answers 429.
   */
  async redeem(token: string, from: RedemptionClient): Promise<Redeemed> {
    this.checkBudget(from.address);
    try {
      return await this.redeemChecked(token, from);
    } catch (err: unknown) {
      if (err instanceof ProblemError && (err.status === 401 || err.status === 409)) this.attempts.take(from.address);
      throw err;
    }
  }

  private async redeemChecked(token: string, from: RedemptionClient): Promise<Redeemed> {
    const parsed = parseEnrollmentToken(token);
    if (!parsed) throw invalidToken();
    // Sealed: 503 before anything is recorded (a credential cannot be bound without the root key).
    const macKey = await this.root.requireCredentialMacKey();
    const { logId, principalId, tokenHash } = parsed;
    const principal = (await this.executor.current(logId)).principals.get(principalId);
    if (!principal) throw invalidToken();
    const ctx = { now: businessNow(), actor: { principalId, role: principal.role }, correlationId: from.requestId };
    const command = {
      kind: 'principal.enroll',
      principalId,
      tokenHash,
      from: { address: from.address, ...(from.userAgent ? { userAgent: from.userAgent } : {}) },
    } as const;
    const executed = await this.executor.execute(logId, command, ctx).catch((err: unknown) => {
      if (err instanceof DomainError) throw enrollmentRefusal(err.details) === 'used' ? usedToken() : invalidToken();
      throw err;
    });
    // The log says it is redeemed before the key exists: a crash in between leaves a principal with
    // no key (revoke and create it again), never a second key from one token.
    const apiKey = await this.credentials.issue(logId, principalId, principal.role, macKey);
    this.logger.log(`principal ${principalId} of ${logId} enrolled from ${from.address}`);
    const enrolled = executed.log.principals.get(principalId) ?? principal;
    const base = { seq: executed.seq, principalId, tenantId: logId, role: principal.role };
    if (!enrolled.enrollmentKey) return { ...base, apiKey };
    return { ...base, wrappedApiKey: wrapForEnrollment(enrolled.enrollmentKey, apiKey), wrapping: ENROLLMENT_WRAPPING };
  }

  private checkBudget(address: string): void {
    const waitMs = this.attempts.waitMs(address);
    if (waitMs > 0) {
      const seconds = String(Math.max(1, Math.ceil(waitMs / 1000)));
      throw new ProblemError(
        429,
        'rate-limited',
        'Too many requests',
        'too many enrollment attempts from this address; retry after the Retry-After delay',
        { limit: 'enrollment', retryAfterSeconds: Number(seconds) },
        { 'retry-after': seconds },
      );
    }
  }
}
