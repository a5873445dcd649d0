import { Module } from '@nestjs/common';
import { AuditController } from './audit.controller';
import { AuditScanLimiter } from './audit-scan.limiter';
import { AuditService } from './audit.service';
import { CheckpointService } from './checkpoint.service';
import { LiveCommits } from './live-commits';
import { LiveController } from './live.controller';

/** Compliance: the auditor API over the commit log, and the signed checkpoints of every chain head. */
@Module({
  controllers: [AuditController, LiveController],
  providers: [AuditService, CheckpointService, AuditScanLimiter, LiveCommits],
})
export class AuditModule {}
