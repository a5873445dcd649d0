import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { BackupRecords } from '@keyward/backup-records';
import { ProblemError } from '@keyward/platform';
import { Roles } from '../auth/decorators';
import type { Caller } from '../platform/caller';
import { RequestCaller } from '../platform/request-caller';
import { openApi, ZodPipe } from '../platform/zod.pipe';
import { backupRunBody, verificationBody } from './backup.representation';
import {
  backupDetailResponse,
  backupListResponse,
  backupsQuery,
  snapshotIdParam,
  verificationIdParam,
  verificationResponse,
} from './backups.schema';

const noSnapshot = (id: string) => new ProblemError(404, 'not-found', 'Not found', `no snapshot ${id} is recorded`);

/**
 * The backups as the backup service records them in the store (each run, and the snapshots it found
 * at start), and verification on request: key-api files the request, the backup service, which alone
 * holds the backup keys, verifies and records the outcome. No key, key fingerprint or credential is
 * ever in an answer. provider-admin only.
 */
@ApiTags('sys')
@ApiBearerAuth()
@Controller('v1/sys/backups')
export class BackupsController {
  constructor(private readonly records: BackupRecords) {}

  @Get()
  @Roles('provider-admin')
  @ApiOperation({ summary: 'Backup runs, newest first, with the last success, sizes, digests and the last verification of each snapshot' })
  @ApiOkResponse({ schema: openApi(backupListResponse) })
  async list(@Query(new ZodPipe(backupsQuery, 'query')) q: z.output<typeof backupsQuery>): Promise<z.output<typeof backupListResponse>> {
    const [runs, last] = await Promise.all([this.records.recent(q.limit), this.records.lastSuccess()]);
    const ids = [...runs, ...(last ? [last] : [])].flatMap((r) => (r.snapshotId === null ? [] : [r.snapshotId]));
    const verified = await this.records.latestVerifications([...new Set(ids)]);
    const body = (r: (typeof runs)[number]) => backupRunBody(r, r.snapshotId === null ? undefined : verified.get(r.snapshotId));
    return { lastSuccess: last ? body(last) : null, items: runs.map(body) };
  }

  @Get(':snapshotId')
  @Roles('provider-admin')
  @ApiOperation({ summary: 'One snapshot and its verifications' })
  @ApiOkResponse({ schema: openApi(backupDetailResponse) })
  async get(@Param('snapshotId', new ZodPipe(snapshotIdParam, 'path')) snapshotId: string): Promise<z.output<typeof backupDetailResponse>> {
    const run = await this.records.snapshot(snapshotId);
    if (!run) throw noSnapshot(snapshotId);
    const verifications = await this.records.verificationsOf(snapshotId);
    return { ...backupRunBody(run, verifications[0]), verifications: verifications.map(verificationBody) };
  }

  @Post(':snapshotId/verifications')
  @HttpCode(202)
  @Roles('provider-admin')
  @ApiOperation({
    summary: 'Ask the backup service to verify a snapshot',
    description:
      'Answers the request at once (202, status pending); the backup service verifies it within seconds and records the outcome: ' +
      'read it with GET /v1/sys/backups/{snapshotId}/verifications/{verificationId}. A request while one is pending or running ' +
      'for the same snapshot answers that one. Without a running backup service the request stays pending.',
  })
  @ApiResponse({ status: 202, description: 'The verification request', schema: openApi(verificationResponse) })
  async verify(
    @Param('snapshotId', new ZodPipe(snapshotIdParam, 'path')) snapshotId: string,
    @RequestCaller() caller: Caller,
  ): Promise<z.output<typeof verificationResponse>> {
    if (!(await this.records.snapshot(snapshotId))) throw noSnapshot(snapshotId);
    const open = (await this.records.verificationsOf(snapshotId)).find((v) => v.status === 'pending' || v.status === 'running');
    return verificationBody(open ?? (await this.records.requestVerification(snapshotId, caller.principal)));
  }

  @Get(':snapshotId/verifications/:verificationId')
  @Roles('provider-admin')
  @ApiOperation({ summary: 'One verification: pending, running, verified, or failed with its reason' })
  @ApiOkResponse({ schema: openApi(verificationResponse) })
  async verification(
    @Param('snapshotId', new ZodPipe(snapshotIdParam, 'path')) snapshotId: string,
    @Param('verificationId', new ZodPipe(verificationIdParam, 'path')) verificationId: string,
  ): Promise<z.output<typeof verificationResponse>> {
    const found = await this.records.verification(snapshotId, verificationId);
    if (!found) throw new ProblemError(404, 'not-found', 'Not found', `no verification ${verificationId} of snapshot ${snapshotId}`);
    return verificationBody(found);
  }
}
