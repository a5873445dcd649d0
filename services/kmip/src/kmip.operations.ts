import { randomUUID } from 'node:crypto';
import { Injectable, Logger, Optional } from '@nestjs/common';
import type { AuthenticatedPrincipal } from '@keyward/auth';
import { CommandExecutor } from '@keyward/event-log';
import {
  asBool,
  asBytes,
  asEnum,
  asText,
  child,
  children,
  ItemType,
  Operation,
  ResultReason,
  ResultStatus,
  SUPPORTED_VERSIONS,
  Tag,
  ttlv,
  type TtlvItem,
} from '@keyward/kmip';
import { EncryptionBudgetService, KeyStateSource, KeyMaterialService, UsageLimitsService, UsageRecorder } from '@keyward/keys';
import {
  fail,
  versionItem,
  versionOf,
  type Call,
  type KmipDeps,
  type Operation as KmipOperation,
  type Payload,
  type Version,
} from './kmip-call';
import { inProtocolVersion, KmipError, toKmipError } from './kmip-error';
import { KmipMetrics } from './kmip.metrics';
import { CoalescedReads, decideFresh, MessageReads } from './kmip-tenant-reads';
import { principalOf, type CertificateIdentity } from './kmip-principal';
import { SpeculativeReads } from './kmip-batch-undo';
import {
  addAttribute,
  deleteAttribute,
  getAttributeList,
  getAttributes,
  modifyAttribute,
  setAttribute,
} from './operations/kmip-attribute.operations';
import { create } from './operations/kmip-create.operations';
import { decrypt, encrypt, mac, macVerify } from './operations/kmip-crypto.operations';
import { sign, signatureVerify } from './operations/kmip-asymmetric.operations';
import { createKeyPair, registerObject } from './operations/kmip-key-pair.operations';
import { get } from './operations/kmip-get.operation';
import { activate, destroy, revoke } from './operations/kmip-lifecycle.operations';
import { locate } from './operations/kmip-locate.operation';
import { hash, rngRetrieve, rngSeed } from './operations/kmip-rng-hash.operations';
import { discoverVersions, query } from './operations/kmip-server-info.operations';
import { check } from './operations/kmip-check.operation';
import { interop, logMessage } from './operations/kmip-interop-log.operations';

/** Why the principal was not authenticated (thrown inside decideFresh, answered as text). */
class Refused extends Error {}

const BATCH_CONTINUE = 1;
const BATCH_STOP = 2;
const BATCH_UNDO = 3;

const supported = (v: Version): boolean => SUPPORTED_VERSIONS.some((s) => s.major === v.major && s.minor === v.minor);

/** Every operation Keyward answers, by name (the metrics label) and code; Query lists them. */
export const SUPPORTED_OPERATIONS = {
  Create: Operation.Create,
  CreateKeyPair: Operation.CreateKeyPair,
  Register: Operation.Register,
  Locate: Operation.Locate,
  Get: Operation.Get,
  GetAttributes: Operation.GetAttributes,
  GetAttributeList: Operation.GetAttributeList,
  AddAttribute: Operation.AddAttribute,
  ModifyAttribute: Operation.ModifyAttribute,
  DeleteAttribute: Operation.DeleteAttribute,
  SetAttribute: Operation.SetAttribute,
  Activate: Operation.Activate,
  Revoke: Operation.Revoke,
  Destroy: Operation.Destroy,
  Query: Operation.Query,
  DiscoverVersions: Operation.DiscoverVersions,
  Encrypt: Operation.Encrypt,
  Decrypt: Operation.Decrypt,
  Mac: Operation.Mac,
  MacVerify: Operation.MacVerify,
  Sign: Operation.Sign,
  SignatureVerify: Operation.SignatureVerify,
  RngRetrieve: Operation.RngRetrieve,
  Hash: Operation.Hash,
  Check: Operation.Check,
  Log: Operation.Log,
  Interop: Operation.Interop,
} as const;

/** Operations a later protocol version introduced: refused (Operation Not Supported) in the versions before it. */
const SINCE: ReadonlyMap<number, Version> = new Map<number, Version>([
  [Operation.Log, { major: 2, minor: 1 }],
  [Operation.Interop, { major: 2, minor: 1 }],
]);
const atLeast = (v: Version, since: Version): boolean => v.major > since.major || (v.major === since.major && v.minor >= since.minor);
/** Whether the operation exists in the protocol version of the request. */
export const servedIn = (operation: number, version: Version): boolean => {
  const since = SINCE.get(operation);
  return since === undefined || atLeast(version, since);
};
const OPERATION_CODES: readonly number[] = Object.values(SUPPORTED_OPERATIONS);
const OPERATION_NAMES = new Map<number, string>(Object.entries(SUPPORTED_OPERATIONS).map(([name, code]) => [code, name]));
const RESULT_NAMES = new Map<number, string>(Object.entries(ResultReason).map(([name, code]) => [code, name]));

/** The handler of each operation that needs a principal (Discover Versions and Query need none). */
const HANDLERS: ReadonlyMap<number, KmipOperation> = new Map<number, KmipOperation>([
  [Operation.Create, create],
  [Operation.CreateKeyPair, createKeyPair],
  [Operation.Register, registerObject],
  [Operation.Locate, locate],
  [Operation.Get, get],
  [Operation.GetAttributes, getAttributes],
  [Operation.GetAttributeList, getAttributeList],
  [Operation.AddAttribute, addAttribute],
  [Operation.ModifyAttribute, modifyAttribute],
  [Operation.DeleteAttribute, deleteAttribute],
  [Operation.SetAttribute, setAttribute],
  [Operation.Activate, activate],
  [Operation.Revoke, revoke],
  [Operation.Destroy, destroy],
  [Operation.Encrypt, encrypt],
  [Operation.Decrypt, decrypt],
  [Operation.Mac, mac],
  [Operation.MacVerify, macVerify],
  [Operation.Sign, sign],
  [Operation.SignatureVerify, signatureVerify],
  [Operation.RngRetrieve, rngRetrieve],
  [Operation.RngSeed, rngSeed],
  [Operation.Hash, hash],
  [Operation.Check, check],
]);

/** The operations that leave a usage record (material or crypto). */
const AUDITED: ReadonlySet<number> = new Set([
  Operation.Get,
  Operation.Encrypt,
  Operation.Decrypt,
  Operation.Mac,
  Operation.MacVerify,
  Operation.Sign,
  Operation.SignatureVerify,
]);

/**
 * KMIP request messages over the same commands, events, keystore and usage audit as the REST API:
 * every change is a domain command run by the CommandExecutor on the tenant's commit log. One
 * file per operation group under operations/.
 */
@Injectable()
export class KmipOperations {
  private readonly logger = new Logger('kmip');
  private readonly deps: KmipDeps;

  constructor(
    executor: CommandExecutor,
    materials: KeyMaterialService,
    usage: UsageRecorder,
    @Optional() private readonly metrics?: KmipMetrics,
    @Optional() gcmBudget?: EncryptionBudgetService,
    @Optional() states?: KeyStateSource,
    @Optional() usageLimits?: UsageLimitsService,
  ) {
    const reads = new CoalescedReads(executor, states ? (tenantId) => states.log(tenantId) : undefined);
    this.deps = { executor: reads, materials, usage, ...(gcmBudget ? { gcmBudget } : {}), ...(usageLimits ? { usageLimits } : {}) };
  }

  /**
   * Answers one decoded request message; never throws. Buffers of key material in the response are
   * added to `scrub`, for the caller to zero once it has encoded and written the response.
   */
  async handle(message: TtlvItem, certificate: CertificateIdentity | string, scrub: Buffer[] = []): Promise<TtlvItem> {
    const header = child(message, Tag.RequestHeader);
    const requested = versionOf(child(header, Tag.ProtocolVersion));
    const items = children(message, Tag.BatchItem);
    const version = requested && supported(requested) ? requested : { major: 1, minor: 4 };
    const responseHeader: TtlvItem[] = [versionItem(version), ttlv.date(Tag.TimeStamp, new Date())];
    const clientCorrelation = asText(child(header, Tag.ClientCorrelationValue));
    if (clientCorrelation !== undefined) responseHeader.push(ttlv.text(Tag.ClientCorrelationValue, clientCorrelation));
    const requestId = randomUUID();
    // Only to clients that use correlation values: PyKMIP 0.10's 2.0 reader expects Batch Count right after the Time Stamp.
    if (clientCorrelation !== undefined) responseHeader.push(ttlv.text(Tag.ServerCorrelationValue, requestId));

    const answers: TtlvItem[] = [];
    if (message.tag !== Tag.RequestMessage || header === undefined || requested === undefined || items.length === 0) {
      answers.push(this.failure(undefined, undefined, new KmipError(ResultReason.InvalidMessage, 'not a KMIP request message')));
    } else if (asBool(child(header, Tag.AsynchronousIndicator)) === true) {
      answers.push(
        this.failure(undefined, undefined, new KmipError(ResultReason.FeatureNotSupported, 'asynchronous operations are not supported')),
      );
    } else {
      const option = asEnum(child(header, Tag.BatchErrorContinuationOption)) ?? BATCH_STOP;
      const reads = new MessageReads(this.deps.executor);
      // Undo: the batch is decided before anything is committed (kmip-batch-undo.ts).
      const speculative = option === BATCH_UNDO && items.length > 1 ? new SpeculativeReads(reads) : undefined;
      const deps: KmipDeps = { ...this.deps, executor: speculative ?? reads };
      const principal = await this.authenticate(certificate, deps);
      const stopOnError = option !== BATCH_CONTINUE;
      const call: Call | string =
        typeof principal === 'string'
          ? principal
          : typeof certificate === 'string'
            ? certificate
            : { principal, certificate, version, requestId, placeholder: undefined, scrub };
      for (const item of items) {
        const operation = asEnum(child(item, Tag.Operation));
        const started = process.hrtime.bigint();
        const batchId = asBytes(child(item, Tag.UniqueBatchItemId));
        let answer: TtlvItem;
        let failed = true;
        if (typeof call === 'string') {
          answer = this.failure(operation, batchId, new KmipError(ResultReason.AuthenticationNotSuccessful, call, 'unauthenticated'));
        } else if (operation === undefined) {
          answer = this.failure(operation, batchId, new KmipError(ResultReason.InvalidMessage, 'batch item without an operation'));
        } else if (!supported(requested) && operation !== Operation.DiscoverVersions) {
          answer = this.failure(
            operation,
            batchId,
            new KmipError(ResultReason.InvalidMessage, `protocol version ${requested.major}.${requested.minor} is not supported`),
          );
        } else {
          try {
            const payload = await this.operate(operation, child(item, Tag.RequestPayload), call, deps);
            answer = ttlv.struct(Tag.BatchItem, [
              ttlv.enum(Tag.Operation, operation),
              ...(batchId ? [ttlv.bytes(Tag.UniqueBatchItemId, batchId)] : []),
              ttlv.enum(Tag.ResultStatus, ResultStatus.Success),
              ttlv.struct(Tag.ResponsePayload, payload),
            ]);
            failed = false;
          } catch (err: unknown) {
            const kmip = toKmipError(err);
            if (kmip.reason === ResultReason.GeneralFailure && kmip.slug !== 'audit-unavailable' && kmip.slug !== 'invalid-tag-length')
              this.logger.error(`KMIP operation ${operation} failed: ${String(err)}`);
            answer = this.failure(operation, batchId, inProtocolVersion(kmip, version));
          }
        }
        answers.push(answer);
        this.observe(operation, answer, started);
        if (failed && stopOnError) break;
      }
      if (speculative) await this.settle(speculative, answers);
    }
    return ttlv.struct(Tag.ResponseMessage, [
      ttlv.struct(Tag.ResponseHeader, [...responseHeader, ttlv.int(Tag.BatchCount, answers.length)]),
      ...answers,
    ]);
  }

  /**
   * Ends an Undo batch: every item succeeded → its commands are committed in order; one failed →
   * nothing is committed and the items that had succeeded are answered Operation Undone.
   */
  private async settle(speculative: SpeculativeReads, answers: TtlvItem[]): Promise<void> {
    const failed = answers.some((a) => asEnum(child(a, Tag.ResultStatus)) !== ResultStatus.Success);
    if (failed) {
      speculative.discard();
      answers.forEach((answer, i) => {
        if (asEnum(child(answer, Tag.ResultStatus)) !== ResultStatus.Success || answer.type !== ItemType.Structure) return;
        answers[i] = ttlv.struct(Tag.BatchItem, [
          ...answer.value.filter((c) => c.tag === Tag.Operation || c.tag === Tag.UniqueBatchItemId),
          ttlv.enum(Tag.ResultStatus, ResultStatus.OperationUndone),
          // The payload the item would have answered (as the OASIS 2.1 cases expect): an Undone item is not a failure.
          ...answer.value.filter((c) => c.tag === Tag.ResponsePayload),
        ]);
      });
      return;
    }
    try {
      await speculative.commit();
    } catch (err: unknown) {
      // The log moved between the decision and the commit: say so on every item (those before may be applied).
      const kmip = toKmipError(err);
      answers.forEach((answer, i) => {
        const operation = asEnum(child(answer, Tag.Operation));
        const batchId = asBytes(child(answer, Tag.UniqueBatchItemId));
        answers[i] = this.failure(operation, batchId, new KmipError(kmip.reason, `the batch could not be committed: ${kmip.message}`));
      });
    }
  }

  /** A response for a message that could not be decoded at all. */
  static invalidMessage(reason: string): TtlvItem {
    return ttlv.struct(Tag.ResponseMessage, [
      ttlv.struct(Tag.ResponseHeader, [
        versionItem({ major: 1, minor: 0 }),
        ttlv.date(Tag.TimeStamp, new Date()),
        ttlv.int(Tag.BatchCount, 1),
      ]),
      ttlv.struct(Tag.BatchItem, [
        ttlv.enum(Tag.ResultStatus, ResultStatus.OperationFailed),
        ttlv.enum(Tag.ResultReason, ResultReason.InvalidMessage),
        ttlv.text(Tag.ResultMessage, reason),
      ]),
    ]);
  }

  private failure(operation: number | undefined, batchId: Buffer | undefined, err: KmipError): TtlvItem {
    return ttlv.struct(Tag.BatchItem, [
      ...(operation === undefined ? [] : [ttlv.enum(Tag.Operation, operation)]),
      ...(batchId ? [ttlv.bytes(Tag.UniqueBatchItemId, batchId)] : []),
      ttlv.enum(Tag.ResultStatus, ResultStatus.OperationFailed),
      ttlv.enum(Tag.ResultReason, err.reason),
      ttlv.text(Tag.ResultMessage, err.message),
    ]);
  }

  /** One batch item in the metrics: by operation and result (Success or the Result Reason's name). */
  private observe(operation: number | undefined, answer: TtlvItem, started: bigint): void {
    if (!this.metrics) return;
    const name = (operation !== undefined && OPERATION_NAMES.get(operation)) || 'Unknown';
    const reason = asEnum(child(answer, Tag.ResultReason));
    const result = reason === undefined ? 'Success' : (RESULT_NAMES.get(reason) ?? `0x${reason.toString(16)}`);
    this.metrics.operations.inc({ operation: name, result });
    this.metrics.duration.observe({ operation: name }, Number(process.hrtime.bigint() - started) / 1e9);
  }

  private async authenticate(certificate: CertificateIdentity | string, deps: KmipDeps): Promise<AuthenticatedPrincipal | string> {
    if (typeof certificate === 'string') return certificate;
    try {
      // A refusal is confirmed against the store (a binding made over REST a moment ago counts).
      return await decideFresh(deps.executor, certificate.tenantId, (log) => {
        const principal = principalOf(certificate, log);
        if (typeof principal === 'string') throw new Refused(principal);
        return principal;
      }).catch((err: unknown) => {
        if (err instanceof Refused) return err.message;
        throw err;
      });
    } catch (err: unknown) {
      this.logger.warn(`cannot authenticate ${certificate.principalId}@${certificate.tenantId}: ${String(err)}`);
      return 'authentication is unavailable';
    }
  }

  private operate(operation: number, payload: TtlvItem | undefined, call: Call, deps: KmipDeps): Promise<Payload> | Payload {
    if (operation === Operation.DiscoverVersions) return discoverVersions(payload);
    if (!servedIn(operation, call.version))
      return fail(
        ResultReason.OperationNotSupported,
        `operation ${OPERATION_NAMES.get(operation) ?? operation} is not part of KMIP ${call.version.major}.${call.version.minor}`,
      );
    if (operation === Operation.Query)
      return query(
        payload,
        OPERATION_CODES.filter((code) => servedIn(code, call.version)),
      );
    if (operation === Operation.Interop) return interop(payload, call);
    if (operation === Operation.Log) return logMessage(payload, call);
    const handler = HANDLERS.get(operation);
    if (handler === undefined) return fail(ResultReason.OperationNotSupported, `operation ${operation} is not supported`);
    // Fail closed, as REST: no audited operation runs whose usage record could not be kept.
    if (AUDITED.has(operation)) deps.usage.admit(call.principal.tenantId);
    return handler(deps, payload, call);
  }
}
