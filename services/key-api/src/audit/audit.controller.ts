import { Readable } from 'node:stream';
import { applyDecorators, Controller, Get, Query, Res, StreamableFile } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiQuery,
  ApiTags,
  type ApiOperationOptions,
  type ApiResponseOptions,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { z, ZodType } from 'zod';
import { decodeEventCursor, type AuditEventFilter } from '@keyward/event-log';
import { ProblemError, Public } from '@keyward/platform';
import { auditedTenant } from './audit-scope';
import { AuditScanLimiter } from './audit-scan.limiter';
import { AuditService } from './audit.service';
import { CheckpointService } from './checkpoint.service';
import { renderReport, REPORT_CSP } from './html-report';
import { Roles } from '../auth/decorators';
import type { Caller } from '../platform/caller';
import { RequestCaller } from '../platform/request-caller';
import { approvalBody } from '../dual-control/approval.representation';
import {
  auditCheckpointsQuery,
  auditEventsQuery,
  auditEventsResponse,
  auditExportQuery,
  auditStateQuery,
  auditAccessQuery,
  auditAccessResponse,
  auditStateResponse,
  auditUsageQuery,
  auditUsageResponse,
  auditVerifyQuery,
  auditVerifyResponse,
  checkpointListResponse,
  publicKeyResponse,
} from './audit.schema';
import { openApi, ZodPipe } from '../platform/zod.pipe';

/**
 * Who may audit: auditors and tenant-admins of their own tenant, provider-admins of any tenant
 * (`?tenantId=`). Key-users may not: they use keys, they do not review how keys are managed.
 */
const AUDIT_ROLES = ['auditor', 'tenant-admin', 'provider-admin'] as const;

/** A read of the audit trail: GET, for auditors and administrators, one zod-checked query object. */
const AuditRoute = (
  path: string,
  query: ZodType,
  response: ApiResponseOptions,
  required: boolean,
  operation: ApiOperationOptions,
): MethodDecorator =>
  applyDecorators(
    Get(path),
    ApiBearerAuth(),
    Roles(...AUDIT_ROLES),
    ApiOperation(operation),
    ApiQuery({ name: 'query', required, schema: openApi(query, 'input') }),
    ApiOkResponse(response),
  );

function filterOf(q: z.output<typeof auditEventsQuery> | z.output<typeof auditExportQuery>): AuditEventFilter {
  return {
    ...(q.fromSeq === undefined ? {} : { fromSeq: q.fromSeq }),
    ...(q.toSeq === undefined ? {} : { toSeq: q.toSeq }),
    ...(q.from === undefined ? {} : { from: q.from }),
    ...(q.to === undefined ? {} : { to: q.to }),
    ...(q.keyId === undefined ? {} : { keyId: q.keyId }),
    ...(q.type === undefined ? {} : { type: q.type }),
  };
}

@ApiTags('audit')
@Controller('v1/audit')
export class AuditController {
  constructor(
    private readonly audit: AuditService,
    private readonly checkpoints: CheckpointService,
    private readonly scans: AuditScanLimiter,
  ) {}

  @AuditRoute('events', auditEventsQuery, { schema: openApi(auditEventsResponse) }, false, {
    summary: 'Events of the commit log, in order, one item per event (cursor-paginated, stable)',
    description:
      'Read from the commit log itself. Filters combine; times are inclusive. A page may hold fewer than limit items: go on while nextCursor is not null.',
  })
  async events(@Query(new ZodPipe(auditEventsQuery, 'query')) q: z.output<typeof auditEventsQuery>, @RequestCaller() caller: Caller) {
    const tenantId = auditedTenant(caller.principal, q.tenantId);
    const cursor = q.cursor === undefined ? undefined : decodeEventCursor(q.cursor);
    return this.audit.events(tenantId, filterOf(q), q.limit, cursor);
  }

  @AuditRoute('verify', auditVerifyQuery, { schema: openApi(auditVerifyResponse) }, false, {
    summary: "Verify the tenant's history: hash chain from genesis (or from a checkpoint), no missing seq, Kafka agrees, checkpoints agree",
    description:
      'Always 200: ok false names the first bad seq and what is wrong with it. With since and hash (from a signed checkpoint you hold), ' +
      'proves the history up to that checkpoint is unchanged and has only been appended to since. Reads the whole events topic (bounded by its size): ' +
      'AUDIT_SCANS_PER_TENANT such scans (with /v1/audit/usage) at once per tenant, AUDIT_SCANS_MAX per instance; beyond, 429 audit-scan-busy with Retry-After.',
  })
  verify(@Query(new ZodPipe(auditVerifyQuery, 'query')) q: z.output<typeof auditVerifyQuery>, @RequestCaller() caller: Caller) {
    const tenantId = auditedTenant(caller.principal, q.tenantId);
    return this.scans.run(tenantId, () =>
      this.audit.verify(tenantId, q.since === undefined || q.hash === undefined ? undefined : { seq: q.since, hash: q.hash }),
    );
  }

  @AuditRoute('state', auditStateQuery, { schema: openApi(auditStateResponse) }, true, {
    summary: 'The tenant, its keys, principals and approvals as they were at an instant',
    description:
      "Rebuilt by replaying the log up to the instant with the domain's own evolve; the chain is checked on the way (409 chain-broken if it does not verify).",
  })
  async state(@Query(new ZodPipe(auditStateQuery, 'query')) q: z.output<typeof auditStateQuery>, @RequestCaller() caller: Caller) {
    const at = new Date(q.at);
    const state = await this.audit.stateAt(auditedTenant(caller.principal, q.tenantId), at);
    return { ...state, approvals: state.approvals.map((a) => approvalBody(a, at)) };
  }

  @AuditRoute('access', auditAccessQuery, { schema: openApi(auditAccessResponse) }, true, {
    summary: 'Which principals could do what with a key at an instant (its grants then, or every key-user in an open tenant)',
    description:
      "Rebuilt by replaying the log up to the instant (as /v1/audit/state), then the domain's accessTo: the rule the data plane enforces. " +
      '404 when the key did not exist at that instant; 409 chain-broken if the log does not verify.',
  })
  access(@Query(new ZodPipe(auditAccessQuery, 'query')) q: z.output<typeof auditAccessQuery>, @RequestCaller() caller: Caller) {
    return this.audit.accessAt(auditedTenant(caller.principal, q.tenantId), q.keyId, new Date(q.at));
  }

  @AuditRoute('usage', auditUsageQuery, { schema: openApi(auditUsageResponse) }, false, {
    summary: 'Crypto usage records of the tenant, from the usage topic',
    description:
      'A bounded scan: from the topic offsets of `from` (or the beginning), at most AUDIT_USAGE_SCAN_MAX records of all tenants are read; truncated says the answer may be incomplete. ' +
      'Scans are capped like /v1/audit/verify (429 audit-scan-busy with Retry-After).',
  })
  usage(@Query(new ZodPipe(auditUsageQuery, 'query')) q: z.output<typeof auditUsageQuery>, @RequestCaller() caller: Caller) {
    const tenantId = auditedTenant(caller.principal, q.tenantId);
    return this.scans.run(tenantId, () =>
      this.audit.usage(tenantId, {
        limit: q.limit,
        ...(q.keyId === undefined ? {} : { keyId: q.keyId }),
        ...(q.from === undefined ? {} : { from: new Date(q.from) }),
        ...(q.to === undefined ? {} : { to: new Date(q.to) }),
      }),
    );
  }

  @ApiProduces('application/x-ndjson', 'text/csv', 'text/html')
  @AuditRoute('export', auditExportQuery, { description: 'The export file' }, false, {
    summary: 'Export events as JSON Lines or CSV (streamed), or the key inventory and lifecycle report of a period as HTML',
    description:
      'jsonl: one event per line, as /v1/audit/events items. csv: a header line, then tenantId, seq, index, at, type, actorPrincipalId, actorRole, ' +
      'correlationId, keyId, commitHash, data (JSON), RFC 4180 quoting. html: a printable report of the period from..to. ' +
      'The x-keyward-head-seq header gives the head of the chain when the export began.',
  })
  async export(
    @Query(new ZodPipe(auditExportQuery, 'query')) q: z.output<typeof auditExportQuery>,
    @RequestCaller() caller: Caller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<StreamableFile> {
    const tenantId = auditedTenant(caller.principal, q.tenantId);
    const head = await this.audit.requireTenant(tenantId);
    void reply.header('x-keyward-head-seq', String(head.seq)).header('cache-control', 'no-store');
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    if (q.format === 'html') {
      const data = await this.audit.report(
        tenantId,
        q.from === undefined ? undefined : new Date(q.from),
        q.to === undefined ? undefined : new Date(q.to),
      );
      void reply.header('content-security-policy', REPORT_CSP).header('x-content-type-options', 'nosniff');
      return new StreamableFile(Buffer.from(renderReport(data), 'utf8'), {
        type: 'text/html; charset=utf-8',
        disposition: `inline; filename="keyward-${tenantId}-report-${stamp}.html"`,
      });
    }
    const type = q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8';
    return new StreamableFile(Readable.from(this.audit.exportLines(tenantId, filterOf(q), q.format)), {
      type,
      disposition: `attachment; filename="keyward-${tenantId}-events-${stamp}.${q.format}"`,
    });
  }

  @AuditRoute('checkpoints', auditCheckpointsQuery, { schema: openApi(checkpointListResponse) }, false, {
    summary: "Signed checkpoints of the tenant's chain head, newest first",
    description: 'Each signature is Ed25519 over payload with the key keyId of GET /v1/audit/public-key.',
  })
  async listCheckpoints(
    @Query(new ZodPipe(auditCheckpointsQuery, 'query')) q: z.output<typeof auditCheckpointsQuery>,
    @RequestCaller() caller: Caller,
  ) {
    const tenantId = auditedTenant(caller.principal, q.tenantId);
    await this.audit.requireTenant(tenantId);
    return this.checkpoints.list(tenantId, q.limit, q.cursor === undefined ? undefined : Number(q.cursor));
  }

  @Get('public-key')
  @Public()
  @ApiOperation({
    summary: 'Public keys that sign checkpoints (PEM and JWK); public, so anyone holding a checkpoint can check it',
    description: 'Pin the keyId you trust out of band: the list is read from the database.',
  })
  @ApiOkResponse({ schema: openApi(publicKeyResponse) })
  async publicKey() {
    const keys = await this.checkpoints.publishedKeys();
    if (keys.length === 0 && this.checkpoints.currentKeyId === null) {
      throw new ProblemError(404, 'not-found', 'Not found', 'checkpoints are not signed on this deployment (AUDIT_SIGNING_KEY_FILE)');
    }
    return { current: this.checkpoints.currentKeyId, keys };
  }
}
