import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { isSnapshotId } from '@keyward/crypto';
import { ProblemError } from '@keyward/platform';
import { BackupService } from '../backup.service';
import type { SnapshotListing } from '../core/snapshot-store';
import type { BackupResult } from '../core/snapshot-taker';

/** provider-admin only (ProviderAdminGuard). Restore is not offered here: it is a CLI operation. */
@Controller('v1/backups')
export class BackupsController {
  constructor(private readonly backups: BackupService) {}

  /** Takes a snapshot now and answers what it wrote (synchronous: the answer means it is stored). */
  @Post()
  @HttpCode(201)
  create(): Promise<BackupResult> {
    return this.backups.backupNow('api');
  }

  /** Every snapshot in either destination, newest first, with whether it is complete and why not. */
  @Get()
  async list(): Promise<{ items: SnapshotListing[] }> {
    return { items: await this.backups.list() };
  }

  @Get(':snapshotId')
  async get(@Param('snapshotId') snapshotId: string): Promise<SnapshotListing> {
    const found = isSnapshotId(snapshotId) ? (await this.backups.list()).find((s) => s.snapshotId === snapshotId) : undefined;
    if (!found) throw new ProblemError(404, 'not-found', 'Not found', `no snapshot ${snapshotId}`);
    return found;
  }
}
