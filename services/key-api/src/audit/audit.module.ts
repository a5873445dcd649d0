import { Module } from '@nestjs/common';
import { AuditController } from './audit.controller';
import { AuditScanLimiter } from './audit-scan.limiter';
import { AuditService } from './audit.service';
import { CheckpointService } from './checkpoint.service';

/** Compliance: the auditor API over the commit log, and the signed checkpoints of every chain head. */
@Module({
  controllers: [AuditController],
  providers: [AuditService, CheckpointService, AuditScanLimiter],
})
export class AuditModule {}
