import type { BackupReportDocument, BackupVerificationDocument } from '@keyward/backup-records';
import type { z } from 'zod';
import type { backupRunResponse, verificationResponse } from './backups.schema';

type VerificationBody = z.output<typeof verificationResponse>;
type RunBody = z.output<typeof backupRunResponse>;

/** A verification as the API answers it: status, outcome and what was read; the worker's identity stays inside. */
export function verificationBody(v: BackupVerificationDocument): VerificationBody {
  return {
    verificationId: v._id,
    snapshotId: v.snapshotId,
    status: v.status,
    requestedAt: v.requestedAt.toISOString(),
    requestedBy: v.requestedBy.principalId,
    finishedAt: v.finishedAt?.toISOString() ?? null,
    seconds: v.seconds ?? null,
    code: v.code ?? null,
    detail: v.detail ?? null,
    parts: v.parts ? { kek: { ...v.parts.kek }, dek: { ...v.parts.dek } } : null,
  };
}

export function backupRunBody(r: BackupReportDocument, lastVerification: BackupVerificationDocument | undefined): RunBody {
  return {
    runId: r._id,
    snapshotId: r.snapshotId,
    at: r.at.toISOString(),
    trigger: r.trigger,
    outcome: r.outcome,
    seconds: r.seconds,
    tenants: r.tenants,
    parts: r.parts ? { kek: { ...r.parts.kek }, dek: { ...r.parts.dek } } : null,
    problem: r.problem,
    lastVerification: lastVerification ? verificationBody(lastVerification) : null,
  };
}
