import { createCipheriv, createDecipheriv, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import type { AuthenticatedPrincipal } from '@keyward/auth';
import { newId } from '@keyward/auth';
import { keyCheckValue } from '@keyward/crypto';
import {
  authorizeExport,
  authorizeUse,
  KEY_TYPES,
  type DecisionContext,
  type KeyState,
  type KeyType,
  type KeywardCommand,
  type KeywardEvent,
  type Role,
  type TenantLog,
} from '@keyward/domain';
import { CommandExecutor } from '@keyward/event-log';
import {
  asBool,
  asBytes,
  asDate,
  asEnum,
  asInt,
  asText,
  BlockCipherMode,
  child,
  children,
  CryptographicAlgorithm,
  CryptographicUsageMask,
  KeyFormatType,
  ObjectType,
  Operation,
  QueryFunction,
  ResultReason,
  ResultStatus,
  RevocationReasonCode,
  SUPPORTED_VERSIONS,
  Tag,
  ttlv,
  type TtlvItem,
} from '@keyward/kmip';
import { businessNow } from '@keyward/platform';
import { KeyMaterialService } from '../../key-api/src/crypto/key-material.service';
import { UsageRecorder } from '../../key-api/src/crypto/usage.recorder';
import {
  algorithmOf,
  attributeNameOfTag,
  KMIP_STATES,
  keyAttributes,
  nameValue,
  readAttributes,
  writeAttributes,
  type KmipAttribute,
} from './kmip-attributes';
import { KmipError, toKmipError } from './kmip-error';
import { principalOf, type CertificateIdentity } from './kmip-principal';

type Payload = TtlvItem[];
interface Version {
  readonly major: number;
  readonly minor: number;
}
interface Call {
  readonly principal: AuthenticatedPrincipal;
  readonly version: Version;
  readonly requestId: string;
  /** ID Placeholder: the object the previous batch item made or used. */
  placeholder: string | undefined;
}

/** KMIP 2.0 Attribute Reference (an enumeration naming an attribute tag, in Get Attributes). */
const ATTRIBUTE_REFERENCE = 0x42013b;
const GCM_IV = 12;
const GCM_TAG = 16;
const MAX_DATA = 64 * 1024;
const READERS: readonly Role[] = ['tenant-admin', 'key-user', 'auditor'];
const BATCH_STOP = 2;
const BATCH_CONTINUE = 1;

const fail = (reason: number, message: string, slug?: string): never => {
  throw new KmipError(reason, message, slug);
};

function requireRole(call: Call, roles: readonly Role[], what: string): void {
  if (!roles.includes(call.principal.role)) fail(ResultReason.PermissionDenied, `a ${call.principal.role} cannot ${what}`, 'forbidden');
}

const supported = (v: Version): boolean => SUPPORTED_VERSIONS.some((s) => s.major === v.major && s.minor === v.minor);

/** The version in a Protocol Version structure. */
function versionOf(item: TtlvItem | undefined): Version | undefined {
  const major = asInt(child(item, Tag.ProtocolVersionMajor));
  const minor = asInt(child(item, Tag.ProtocolVersionMinor));
  return major === undefined || minor === undefined ? undefined : { major, minor };
}
const versionItem = (v: Version): TtlvItem =>
  ttlv.struct(Tag.ProtocolVersion, [ttlv.int(Tag.ProtocolVersionMajor, v.major), ttlv.int(Tag.ProtocolVersionMinor, v.minor)]);

/**
 * KMIP operations over the same commands, events, keystore and usage audit as the REST API: every
 * change is a domain command run by the CommandExecutor on the tenant's commit log.
 */
@Injectable()
export class KmipOperations {
  private readonly logger = new Logger('kmip');

  constructor(
    private readonly executor: CommandExecutor,
    private readonly materials: KeyMaterialService,
    private readonly usage: UsageRecorder,
  ) {}

  /** Answers one decoded request message; never throws. */
  async handle(message: TtlvItem, certificate: CertificateIdentity | string): Promise<TtlvItem> {
    const header = child(message, Tag.RequestHeader);
    const requested = versionOf(child(header, Tag.ProtocolVersion));
    const items = children(message, Tag.BatchItem);
    const version = requested && supported(requested) ? requested : { major: 1, minor: 4 };
    const responseHeader: TtlvItem[] = [versionItem(version), ttlv.date(Tag.TimeStamp, new Date())];
    const clientCorrelation = asText(child(header, Tag.ClientCorrelationValue));
    if (clientCorrelation !== undefined) responseHeader.push(ttlv.text(Tag.ClientCorrelationValue, clientCorrelation));
    const requestId = randomUUID();
    if (clientCorrelation !== undefined || version.major >= 2) responseHeader.push(ttlv.text(Tag.ServerCorrelationValue, requestId));

    const answers: TtlvItem[] = [];
    if (message.tag !== Tag.RequestMessage || header === undefined || requested === undefined || items.length === 0) {
      answers.push(this.failure(undefined, undefined, new KmipError(ResultReason.InvalidMessage, 'not a KMIP request message')));
    } else if (asBool(child(header, Tag.AsynchronousIndicator)) === true) {
      answers.push(
        this.failure(undefined, undefined, new KmipError(ResultReason.FeatureNotSupported, 'asynchronous operations are not supported')),
      );
    } else {
      const principal = await this.authenticate(certificate);
      const stopOnError = (asEnum(child(header, Tag.BatchErrorContinuationOption)) ?? BATCH_STOP) !== BATCH_CONTINUE;
      const call: Call | string = typeof principal === 'string' ? principal : { principal, version, requestId, placeholder: undefined };
      for (const item of items) {
        const operation = asEnum(child(item, Tag.Operation));
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
            const payload = await this.operate(operation, child(item, Tag.RequestPayload), call);
            answer = ttlv.struct(Tag.BatchItem, [
              ttlv.enum(Tag.Operation, operation),
              ...(batchId ? [ttlv.bytes(Tag.UniqueBatchItemId, batchId)] : []),
              ttlv.enum(Tag.ResultStatus, ResultStatus.Success),
              ttlv.struct(Tag.ResponsePayload, payload),
            ]);
            failed = false;
          } catch (err: unknown) {
            const kmip = toKmipError(err);
            if (kmip.reason === ResultReason.GeneralFailure) this.logger.error(`KMIP operation ${operation} failed: ${String(err)}`);
            answer = this.failure(operation, batchId, kmip);
          }
        }
        answers.push(answer);
        if (failed && stopOnError) break;
      }
    }
    return ttlv.struct(Tag.ResponseMessage, [
      ttlv.struct(Tag.ResponseHeader, [...responseHeader, ttlv.int(Tag.BatchCount, answers.length)]),
      ...answers,
    ]);
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

  private async authenticate(certificate: CertificateIdentity | string): Promise<AuthenticatedPrincipal | string> {
    if (typeof certificate === 'string') return certificate;
    try {
      return principalOf(certificate, await this.executor.current(certificate.tenantId));
    } catch (err: unknown) {
      this.logger.warn(`cannot authenticate ${certificate.principalId}@${certificate.tenantId}: ${String(err)}`);
      return 'authentication is unavailable';
    }
  }

  private operate(operation: number, payload: TtlvItem | undefined, call: Call): Promise<Payload> | Payload {
    switch (operation) {
      case Operation.DiscoverVersions:
        return this.discoverVersions(payload);
      case Operation.Query:
        return this.query(payload);
      case Operation.Create:
        return this.create(payload, call);
      case Operation.Get:
        return this.get(payload, call);
      case Operation.GetAttributes:
        return this.getAttributes(payload, call);
      case Operation.GetAttributeList:
        return this.getAttributeList(payload, call);
      case Operation.Activate:
        return this.lifecycle(payload, call, (keyId) => ({ kind: 'key.activate', keyId }));
      case Operation.Revoke:
        return this.revoke(payload, call);
      case Operation.Destroy:
        return this.lifecycle(payload, call, (keyId) => ({ kind: 'key.destroy', keyId }));
      case Operation.Locate:
        return this.locate(payload, call);
      case Operation.Encrypt:
        return this.crypt(payload, call, 'encrypt');
      case Operation.Decrypt:
        return this.crypt(payload, call, 'decrypt');
      case Operation.Mac:
        return this.mac(payload, call);
      default:
        return fail(ResultReason.OperationNotSupported, `operation ${operation} is not supported`);
    }
  }

  private discoverVersions(payload: TtlvItem | undefined): Payload {
    const offered = children(payload, Tag.ProtocolVersion)
      .map(versionOf)
      .filter((v): v is Version => v !== undefined);
    const answer =
      offered.length === 0
        ? SUPPORTED_VERSIONS
        : SUPPORTED_VERSIONS.filter((s) => offered.some((o) => o.major === s.major && o.minor === s.minor));
    return answer.map(versionItem);
  }

  private query(payload: TtlvItem | undefined): Payload {
    const functions = new Set(children(payload, Tag.QueryFunction).map(asEnum));
    const out: TtlvItem[] = [];
    if (functions.has(QueryFunction.QueryOperations))
      for (const op of Object.values(SUPPORTED_OPERATIONS)) out.push(ttlv.enum(Tag.Operation, op));
    if (functions.has(QueryFunction.QueryObjects)) out.push(ttlv.enum(Tag.ObjectType, ObjectType.SymmetricKey));
    if (functions.has(QueryFunction.QueryServerInformation)) {
      out.push(ttlv.text(Tag.VendorIdentification, 'Keyward'));
      out.push(ttlv.struct(Tag.ServerInformation, []));
    }
    return out;
  }

  private context(call: Call): DecisionContext {
    return {
      now: businessNow(),
      actor: { principalId: call.principal.principalId, role: call.principal.role },
      correlationId: call.requestId,
    };
  }

  private async key(payload: TtlvItem | undefined, call: Call): Promise<{ key: KeyState; log: TenantLog }> {
    const id = asText(child(payload, Tag.UniqueIdentifier)) ?? call.placeholder;
    if (id === undefined) return fail(ResultReason.MissingData, 'Unique Identifier is required');
    const log = await this.executor.current(call.principal.tenantId);
    const key = log.keys.get(id);
    if (key === undefined) return fail(ResultReason.ItemNotFound, `key ${id} not found`, 'not-found');
    call.placeholder = key.keyId;
    return { key, log };
  }

  private async create(payload: TtlvItem | undefined, call: Call): Promise<Payload> {
    requireRole(call, ['tenant-admin'], 'create keys');
    const objectType = asEnum(child(payload, Tag.ObjectType));
    if (objectType !== ObjectType.SymmetricKey) fail(ResultReason.FeatureNotSupported, 'only symmetric keys can be created');
    const attributes = [...readAttributes(child(payload, Tag.TemplateAttribute)), ...readAttributes(child(payload, Tag.Attributes))];
    const find = (name: string): KmipAttribute | undefined => attributes.find((a) => a.name === name);
    const algorithm = asEnum(find('Cryptographic Algorithm')?.value);
    const length = asInt(find('Cryptographic Length')?.value);
    const mask = asInt(find('Cryptographic Usage Mask')?.value) ?? 0;
    let keyType: KeyType;
    if (algorithm === CryptographicAlgorithm.AES) keyType = 'AES-256-GCM';
    else if (algorithm === CryptographicAlgorithm.HMAC_SHA256) keyType = 'HMAC-SHA256';
    else return fail(ResultReason.InvalidField, 'Cryptographic Algorithm must be AES or HMAC-SHA256');
    if (length !== undefined && length !== 256) {
      fail(ResultReason.InvalidField, `Cryptographic Length ${length} is not supported: Keyward keys are 256 bits (AES-256, HMAC-SHA256)`);
    }
    const name = find('Name');
    const alias = name ? nameValue(name.value) : undefined;
    const activationDate = asDate(find('Activation Date')?.value);
    const deactivationDate = asDate(find('Deactivation Date')?.value);
    const keyId = newId('key');
    const exportable = (mask & CryptographicUsageMask.Export) !== 0;
    await this.withNewMaterial(call, keyId, keyType, (kcv) => ({
      kind: 'key.create',
      keyId,
      keyType,
      kcv,
      exportable,
      ...(alias === undefined ? {} : { alias }),
      ...(activationDate === undefined ? {} : { activationDate }),
      ...(deactivationDate === undefined ? {} : { deactivationDate }),
    }));
    call.placeholder = keyId;
    return [ttlv.enum(Tag.ObjectType, ObjectType.SymmetricKey), ttlv.text(Tag.UniqueIdentifier, keyId)];
  }

  /** As key-api's create handler: fresh material stored wrapped before the commit; only its check value enters the log. */
  private async withNewMaterial(call: Call, keyId: string, keyType: KeyType, build: (kcv: string) => KeywardCommand): Promise<void> {
    const material = randomBytes(KEY_TYPES[keyType].materialBytes);
    try {
      const kcv = keyCheckValue(material);
      await this.executor.execute(call.principal.tenantId, build(kcv), this.context(call), async (events: readonly KeywardEvent[]) => {
        for (const event of events) {
          if (event.type === 'key.created.v1' && event.data.keyId === keyId) {
            await this.materials.storeNewMaterial(
              { tenantId: call.principal.tenantId, keyId, version: event.data.version.version },
              material,
            );
          }
        }
      });
    } finally {
      material.fill(0);
    }
  }

  private async lifecycle(payload: TtlvItem | undefined, call: Call, command: (keyId: string) => KeywardCommand): Promise<Payload> {
    requireRole(call, ['tenant-admin'], 'manage keys');
    const { key } = await this.key(payload, call);
    await this.executor.execute(call.principal.tenantId, command(key.keyId), this.context(call));
    return [ttlv.text(Tag.UniqueIdentifier, key.keyId)];
  }

  private revoke(payload: TtlvItem | undefined, call: Call): Promise<Payload> {
    const reason = child(payload, Tag.RevocationReason);
    const code = asEnum(child(reason, Tag.RevocationReasonCode));
    if (code === undefined) return Promise.resolve(fail(ResultReason.MissingData, 'Revocation Reason is required'));
    const message = asText(child(reason, Tag.RevocationMessage));
    const occurred = asDate(child(payload, Tag.CompromiseOccurrenceDate));
    if (code === RevocationReasonCode.KeyCompromise || code === RevocationReasonCode.CaCompromise) {
      return this.lifecycle(payload, call, (keyId) => ({
        kind: 'key.compromise',
        keyId,
        reason: message?.trim() ? message : 'KMIP Revoke: key compromise',
        ...(occurred === undefined ? {} : { compromiseDate: occurred }),
      }));
    }
    return this.lifecycle(payload, call, (keyId) => ({ kind: 'key.deactivate', keyId }));
  }

  private async getAttributes(payload: TtlvItem | undefined, call: Call): Promise<Payload> {
    requireRole(call, READERS, 'read key attributes');
    const { key } = await this.key(payload, call);
    const wanted = new Set<string>(
      children(payload, Tag.AttributeName)
        .map(asText)
        .filter((n): n is string => n !== undefined),
    );
    for (const ref of children(payload, ATTRIBUTE_REFERENCE)) {
      const tag = asEnum(ref);
      const name = tag === undefined ? undefined : attributeNameOfTag(tag);
      if (name) wanted.add(name);
    }
    const all = keyAttributes(key);
    const chosen = wanted.size === 0 ? all : all.filter((a) => wanted.has(a.name));
    const encoded = writeAttributes(chosen, call.version.major);
    return [ttlv.text(Tag.UniqueIdentifier, key.keyId), ...(call.version.major >= 2 ? [ttlv.struct(Tag.Attributes, encoded)] : encoded)];
  }

  private async getAttributeList(payload: TtlvItem | undefined, call: Call): Promise<Payload> {
    requireRole(call, READERS, 'read key attributes');
    const { key } = await this.key(payload, call);
    return [ttlv.text(Tag.UniqueIdentifier, key.keyId), ...keyAttributes(key).map((a) => ttlv.text(Tag.AttributeName, a.name))];
  }

  private async locate(payload: TtlvItem | undefined, call: Call): Promise<Payload> {
    requireRole(call, READERS, 'locate keys');
    const filters = [...readAttributes(payload), ...readAttributes(child(payload, Tag.Attributes))];
    const max = asInt(child(payload, Tag.MaximumItems));
    const offset = asInt(child(payload, Tag.OffsetItems)) ?? 0;
    const log = await this.executor.current(call.principal.tenantId);
    const matches = (key: KeyState): boolean =>
      filters.every((f) => {
        switch (f.name) {
          case 'Name':
            return key.alias !== null && key.alias === nameValue(f.value);
          case 'Object Type':
            return asEnum(f.value) === ObjectType.SymmetricKey;
          case 'State':
            return asEnum(f.value) === KMIP_STATES[key.state];
          case 'Cryptographic Algorithm':
            return asEnum(f.value) === algorithmOf(key);
          case 'Cryptographic Length':
            return asInt(f.value) === 256;
          case 'Unique Identifier':
            return asText(f.value) === key.keyId;
          default:
            return fail(ResultReason.FeatureNotSupported, `Locate by ${f.name} is not supported`);
        }
      });
    const found = [...log.keys.values()].filter(matches).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    const page = found.slice(offset, max === undefined ? undefined : offset + Math.max(0, max));
    return page.map((k) => ttlv.text(Tag.UniqueIdentifier, k.keyId));
  }

  /**
   * The raw material of a key the domain lets out (authorizeExport: created exportable, export
   * enabled under dual control, Active or Deactivated), over the mutually authenticated TLS channel.
   */
  /** One usage record for a KMIP crypto operation, as REST leaves them (never any data). */
  private recordUsage(
    call: Call,
    operation: 'export' | 'mac' | 'encrypt' | 'decrypt',
    keyId: string | null,
    version: number | null,
    outcome: string,
  ): void {
    const { tenantId, principalId, role } = call.principal;
    this.usage.record({ tenantId, principalId, role, operation, keyId, version, outcome, requestId: call.requestId });
  }

  private async get(payload: TtlvItem | undefined, call: Call): Promise<Payload> {
    requireRole(call, ['key-user'], 'export key material');
    if (child(payload, Tag.KeyWrappingSpecification) !== undefined) {
      fail(ResultReason.FeatureNotSupported, 'Get with a Key Wrapping Specification is not supported');
    }
    const format = asEnum(child(payload, Tag.KeyFormatType));
    if (format !== undefined && format !== KeyFormatType.Raw)
      fail(ResultReason.KeyFormatTypeNotSupported, 'only the Raw key format is supported');
    const { principal } = call;
    const keyRef = asText(child(payload, Tag.UniqueIdentifier)) ?? call.placeholder ?? '';
    let keyId: string | null = null;
    let version: number | null = null;
    try {
      const log = await this.executor.current(principal.tenantId);
      const key = log.keys.get(keyRef);
      keyId = key?.keyId ?? null;
      const use = authorizeExport(log.tenant, principal.tenantId, key, keyRef);
      version = use.version;
      const material = await this.materials.withMaterial(
        { tenantId: principal.tenantId, keyId: keyRef, version: use.version },
        use.kcv,
        (m) => Buffer.from(m),
      );
      this.recordUsage(call, 'export', keyId, version, 'ok');
      call.placeholder = keyRef;
      return [
        ttlv.enum(Tag.ObjectType, ObjectType.SymmetricKey),
        ttlv.text(Tag.UniqueIdentifier, keyRef),
        ttlv.struct(Tag.SymmetricKey, [
          ttlv.struct(Tag.KeyBlock, [
            ttlv.enum(Tag.KeyFormatType, KeyFormatType.Raw),
            ttlv.struct(Tag.KeyValue, [ttlv.bytes(Tag.KeyMaterial, material)]),
            ttlv.enum(Tag.CryptographicAlgorithm, key === undefined ? CryptographicAlgorithm.AES : algorithmOf(key)),
            ttlv.int(Tag.CryptographicLength, 256),
          ]),
        ]),
      ];
    } catch (err: unknown) {
      const kmip = toKmipError(err);
      this.recordUsage(call, 'export', keyId, version, kmip.slug);
      throw kmip;
    }
  }

  /** MAC with an HMAC-SHA256 key (MAC Verify is not supported). */
  private async mac(payload: TtlvItem | undefined, call: Call): Promise<Payload> {
    requireRole(call, ['key-user'], 'mac');
    const { principal } = call;
    const keyRef = asText(child(payload, Tag.UniqueIdentifier)) ?? call.placeholder ?? '';
    let keyId: string | null = null;
    let version: number | null = null;
    try {
      const algorithm = asEnum(child(child(payload, Tag.CryptographicParameters), Tag.CryptographicAlgorithm));
      if (algorithm !== undefined && algorithm !== CryptographicAlgorithm.HMAC_SHA256) {
        fail(ResultReason.FeatureNotSupported, 'only HMAC-SHA256 is supported');
      }
      const data = asBytes(child(payload, Tag.Data));
      if (data === undefined) return fail(ResultReason.MissingData, 'Data is required');
      if (data.length > MAX_DATA) fail(ResultReason.InvalidField, `Data is larger than ${MAX_DATA} bytes`, 'payload-too-large');
      const log = await this.executor.current(principal.tenantId);
      const key = log.keys.get(keyRef);
      keyId = key?.keyId ?? null;
      const use = authorizeUse(log.tenant, principal.tenantId, key, keyRef, 'mac', businessNow());
      version = use.version;
      const mac = await this.materials.withMaterial({ tenantId: principal.tenantId, keyId: keyRef, version: use.version }, use.kcv, (k) =>
        createHmac('sha256', k).update(data).digest(),
      );
      this.recordUsage(call, 'mac', keyId, version, 'ok');
      return [ttlv.text(Tag.UniqueIdentifier, keyRef), ttlv.bytes(Tag.MacData, mac)];
    } catch (err: unknown) {
      const kmip = toKmipError(err);
      this.recordUsage(call, 'mac', keyId, version, kmip.slug);
      throw kmip;
    }
  }

  private async crypt(payload: TtlvItem | undefined, call: Call, operation: 'encrypt' | 'decrypt'): Promise<Payload> {
    requireRole(call, ['key-user'], operation);
    const { principal } = call;
    const keyRef = asText(child(payload, Tag.UniqueIdentifier)) ?? call.placeholder ?? '';
    let keyId: string | null = null;
    let version: number | null = null;
    try {
      const params = child(payload, Tag.CryptographicParameters);
      const mode = asEnum(child(params, Tag.BlockCipherMode));
      if (mode !== undefined && mode !== BlockCipherMode.GCM)
        fail(ResultReason.FeatureNotSupported, 'only the GCM block cipher mode is supported');
      const algorithm = asEnum(child(params, Tag.CryptographicAlgorithm));
      if (algorithm !== undefined && algorithm !== CryptographicAlgorithm.AES)
        fail(ResultReason.FeatureNotSupported, 'only AES is supported');
      const tagLength = asInt(child(params, Tag.TagLength));
      if (tagLength !== undefined && tagLength !== GCM_TAG) fail(ResultReason.FeatureNotSupported, 'the GCM tag length is 16 bytes');
      const data = asBytes(child(payload, Tag.Data));
      if (data === undefined) return fail(ResultReason.MissingData, 'Data is required');
      if (data.length > MAX_DATA) fail(ResultReason.InvalidField, `Data is larger than ${MAX_DATA} bytes`, 'payload-too-large');
      const aad = asBytes(child(payload, Tag.AuthenticatedEncryptionAdditionalData)) ?? Buffer.alloc(0);
      const log = await this.executor.current(principal.tenantId);
      const key = log.keys.get(keyRef);
      keyId = key?.keyId ?? null;
      const use = authorizeUse(log.tenant, principal.tenantId, key, keyRef, operation, businessNow());
      version = use.version;
      const ref = { tenantId: principal.tenantId, keyId: keyRef, version: use.version };
      let out: Payload;
      if (operation === 'encrypt') {
        const iv = asBytes(child(payload, Tag.IvCounterNonce)) ?? randomBytes(GCM_IV);
        if (iv.length !== GCM_IV) fail(ResultReason.InvalidField, 'the IV/Counter/Nonce must be 12 bytes');
        const sealed = await this.materials.withMaterial(ref, use.kcv, (k) => {
          const cipher = createCipheriv('aes-256-gcm', k, iv, { authTagLength: GCM_TAG });
          cipher.setAAD(aad);
          const ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);
          return { ciphertext, tag: cipher.getAuthTag() };
        });
        // KMIP 1.4 added the Authenticated Encryption Tag field; older versions get it appended to Data.
        const tagField = call.version.major > 1 || call.version.minor >= 4;
        out = [
          ttlv.text(Tag.UniqueIdentifier, keyRef),
          ttlv.bytes(Tag.Data, tagField ? sealed.ciphertext : Buffer.concat([sealed.ciphertext, sealed.tag])),
          ttlv.bytes(Tag.IvCounterNonce, iv),
          ...(tagField ? [ttlv.bytes(Tag.AuthenticatedEncryptionTag, sealed.tag)] : []),
        ];
      } else {
        const iv = asBytes(child(payload, Tag.IvCounterNonce));
        if (iv?.length !== GCM_IV) return fail(ResultReason.MissingData, 'a 12-byte IV/Counter/Nonce is required');
        // Without an Authenticated Encryption Tag field (KMIP < 1.4 clients), the tag is the last 16 bytes of Data.
        const tagItem = asBytes(child(payload, Tag.AuthenticatedEncryptionTag));
        const tag = tagItem ?? (data.length >= GCM_TAG ? data.subarray(data.length - GCM_TAG) : undefined);
        const body = tagItem ? data : data.subarray(0, Math.max(0, data.length - GCM_TAG));
        if (tag?.length !== GCM_TAG) return fail(ResultReason.MissingData, 'a 16-byte Authenticated Encryption Tag is required');
        const plaintext = await this.materials.withMaterial(ref, use.kcv, (k) => {
          const decipher = createDecipheriv('aes-256-gcm', k, iv, { authTagLength: GCM_TAG });
          decipher.setAAD(aad);
          decipher.setAuthTag(tag);
          try {
            return Buffer.concat([decipher.update(body), decipher.final()]);
          } catch {
            return fail(
              ResultReason.CryptographicFailure,
              'authentication failed: the data, IV, tag or AAD was altered',
              'authentication-failed',
            );
          }
        });
        out = [ttlv.text(Tag.UniqueIdentifier, keyRef), ttlv.bytes(Tag.Data, plaintext)];
      }
      this.recordUsage(call, operation, keyId, version, 'ok');
      return out;
    } catch (err: unknown) {
      const kmip = toKmipError(err);
      this.recordUsage(call, operation, keyId, version, kmip.slug);
      throw kmip;
    }
  }
}

export const SUPPORTED_OPERATIONS = {
  Create: Operation.Create,
  Locate: Operation.Locate,
  Get: Operation.Get,
  GetAttributes: Operation.GetAttributes,
  GetAttributeList: Operation.GetAttributeList,
  Activate: Operation.Activate,
  Revoke: Operation.Revoke,
  Destroy: Operation.Destroy,
  Query: Operation.Query,
  DiscoverVersions: Operation.DiscoverVersions,
  Encrypt: Operation.Encrypt,
  Decrypt: Operation.Decrypt,
  Mac: Operation.Mac,
} as const;
