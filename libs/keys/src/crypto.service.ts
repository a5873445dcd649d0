import { constants, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { AuthenticatedPrincipal } from '@keyward/auth';
import {
  AuthenticationFailed,
  decryptBlob,
  encryptBlob,
  macBlob,
  MalformedBlob,
  parseBlob,
  publicKeyOf,
  rsaDecryptBlob,
  rsaEncryptBlob,
  rsaOaepCapacity,
  signWithAsync,
  UnsupportedDigest,
  verifyMacBlob,
  verifyWith,
  type MaterialRef,
  type ParsedBlob,
  type SignatureFormat,
  type SignedInput,
} from '@keyward/crypto';
import {
  ASYMMETRIC_KEY_TYPES,
  DomainError,
  authorizeExport,
  authorizeUse,
  isAsymmetricKeyType,
  requireAccess,
  requireSignatureAlgorithm,
  requireTenantActive,
  type CryptoOperation,
  type GrantOperation,
  type KeyState,
  type KeyType,
  type SignatureAlgorithm,
  type TenantLog,
} from '@keyward/domain';
import { businessNow } from '@keyward/platform';
import { authenticationFailedError, KeyUseError, malformedError, sealedError, usageOutcome } from './errors';

/** What a signature is made with: the algorithm, and ECDSA's encoding (DER by default). */
export interface SignatureRequest {
  readonly algorithm: SignatureAlgorithm;
  readonly format?: SignatureFormat;
}
import { EncryptionBudgetService } from './encryption-budget.service';
import { KeyMaterialService } from './key-material.service';
import { KeyStateSource } from './key-state.source';
import { RootKeyService } from './root-key.service';
import { UsageRecorder } from './usage.recorder';

export interface Caller {
  readonly principal: AuthenticatedPrincipal;
  readonly requestId: string;
}

export interface Protected {
  readonly keyId: string;
  readonly version: number;
}

/**
 * One item of a batch: its answer, or the typed error (KeyUseError, DomainError) that refused it
 * alone, with the key version it named when that is what was refused (its usage record says so).
 */
export type BatchItem<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: Error; readonly version?: number };

/** One item of a verify batch: what was signed, the signature, and the version that made it (default: the batch's). */
export interface VerifyBatchInput {
  readonly input: SignedInput;
  readonly signature: Buffer;
  readonly version?: number;
}

/** What a usage record says about the key, filled in as the operation learns it. */
interface Target {
  keyId: string | null;
  version: number | null;
  /** The grant that allowed the operation (grants-required tenants). */
  grantId: string | null;
}

/** The grant operation each crypto operation needs (docs/security.md, "Grants"). */
const GRANTED_AS: Readonly<Record<CryptoOperation | 'export', GrantOperation>> = {
  encrypt: 'encrypt',
  'generate-data-key': 'data-key',
  decrypt: 'decrypt',
  rewrap: 'rewrap',
  mac: 'mac',
  'verify-mac': 'verify-mac',
  sign: 'sign',
  verify: 'verify',
  export: 'export',
};

/**
 * The data plane: every crypto operation decides (pure domain rule), fetches material (cache or
 * one keystore read), computes, and leaves a usage record whatever the outcome.
 */
@Injectable()
export class CryptoService {
  constructor(
    private readonly root: RootKeyService,
    private readonly states: KeyStateSource,
    private readonly materials: KeyMaterialService,
    private readonly usage: UsageRecorder,
    private readonly gcmBudget: EncryptionBudgetService,
  ) {}

  encrypt(caller: Caller, keyRef: string, plaintext: Buffer, aad?: Buffer): Promise<Protected & { ciphertext: string }> {
    return this.audited(caller, 'encrypt', async (target) => {
      const { ref, kcv, keyType } = await this.protecting(caller, keyRef, 'encrypt', target, undefined, aad);
      const blob = await this.materials.withMaterial(ref, kcv, (m) =>
        isAsymmetricKeyType(keyType)
          ? rsaEncryptBlob(publicKeyOf(m), ref, fitsOaep(keyType, plaintext), aad)
          : encryptBlob(m, ref, plaintext, aad),
      );
      return { ciphertext: blob.toString('base64'), keyId: ref.keyId, version: ref.version };
    });
  }

  decrypt(caller: Caller, ciphertext: Buffer, aad?: Buffer): Promise<Protected & { plaintext: string }> {
    return this.audited(caller, 'decrypt', async (target) => {
      const { blob, ref, kcv } = await this.unprotecting(caller, ciphertext, 'decrypt', target, aad);
      const open = blob.algorithm === 'RSA-OAEP-SHA256' ? rsaDecryptBlob : decryptBlob;
      const plaintext = await this.materials.withMaterial(ref, kcv, (m) => opened(() => open(m, ref.tenantId, blob, aad)));
      try {
        return { plaintext: plaintext.toString('base64'), keyId: ref.keyId, version: ref.version };
      } finally {
        plaintext.fill(0);
      }
    });
  }

  dataKey(
    caller: Caller,
    keyRef: string,
    bytes: number,
    aad: Buffer | undefined,
    withPlaintext: boolean,
  ): Promise<Protected & { ciphertext: string; plaintext?: string }> {
    return this.audited(caller, 'generate-data-key', async (target) => {
      const { ref, kcv } = await this.protecting(caller, keyRef, 'generate-data-key', target, undefined, aad);
      const dataKey = randomBytes(bytes);
      try {
        const blob = await this.materials.withMaterial(ref, kcv, (m) => encryptBlob(m, ref, dataKey, aad));
        return {
          ciphertext: blob.toString('base64'),
          ...(withPlaintext ? { plaintext: dataKey.toString('base64') } : {}),
          keyId: ref.keyId,
          version: ref.version,
        };
      } finally {
        dataKey.fill(0);
      }
    });
  }

  rewrap(caller: Caller, ciphertext: Buffer, aad?: Buffer): Promise<Protected & { ciphertext: string; previousVersion: number }> {
    return this.audited(caller, 'rewrap', async (target) => {
      const source = await this.unprotecting(caller, ciphertext, 'rewrap', target, aad);
      // The same key's latest version: the grant that allowed the rewrap covers it (no encrypt grant needed).
      const destination = await this.protecting(caller, source.ref.keyId, 'encrypt', target, undefined, aad, 'rewrap');
      const { ref } = destination;
      const plaintext = await this.materials.withMaterial(source.ref, source.kcv, (m) =>
        opened(() => decryptBlob(m, ref.tenantId, source.blob, aad)),
      );
      try {
        const blob = await this.materials.withMaterial(ref, destination.kcv, (m) => encryptBlob(m, ref, plaintext, aad));
        return { ciphertext: blob.toString('base64'), keyId: ref.keyId, version: ref.version, previousVersion: source.ref.version };
      } finally {
        plaintext.fill(0);
      }
    });
  }

  mac(caller: Caller, keyRef: string, data: Buffer): Promise<Protected & { mac: string }> {
    return this.audited(caller, 'mac', async (target) => {
      const { ref, kcv } = await this.protecting(caller, keyRef, 'mac', target);
      const blob = await this.materials.withMaterial(ref, kcv, (m) => macBlob(m, ref, data));
      return { mac: blob.toString('base64'), keyId: ref.keyId, version: ref.version };
    });
  }

  verifyMac(caller: Caller, keyRef: string, data: Buffer, mac: Buffer): Promise<Protected & { valid: boolean }> {
    return this.audited(caller, 'verify-mac', async (target) => {
      target.keyId = keyRef;
      const blob = parsed(mac, 'MAC');
      const log = await this.states.log(caller.principal.tenantId);
      const key = log.resolveKey(keyRef);
      // Grants first: a key the caller may not see answers 404, not whether this MAC was made with it.
      requireTenantActive(log.tenant, caller.principal.tenantId);
      requireAccess(log, caller.principal, key, keyRef, 'verify-mac', {}, businessNow());
      if (key !== undefined && key.keyId !== blob.keyId) {
        throw new KeyUseError('mac-key-mismatch', `this MAC was made with key ${blob.keyId}, not ${keyRef}`);
      }
      const { ref, kcv } = this.decide(log, caller, key, keyRef, 'verify-mac', target, undefined, blob.version);
      const valid = await this.materials.withMaterial(ref, kcv, (m) => verifyMacBlob(m, ref.tenantId, blob, data));
      return { valid, keyId: ref.keyId, version: ref.version };
    });
  }

  /** Signs a message (or, for PKCS#1 v1.5, its digest) with the latest version of an Active asymmetric key. */
  sign(caller: Caller, keyRef: string, input: SignedInput, request: SignatureRequest): Promise<Protected & { signature: string }> {
    return this.audited(caller, 'sign', async (target) => {
      const { ref, kcv } = await this.protecting(caller, keyRef, 'sign', target, request.algorithm);
      const signature = await this.materials.withMaterial(ref, kcv, (m) =>
        digestChecked(() => signWithAsync(m, request.algorithm, input, request.format)),
      );
      return { signature: signature.toString('base64'), keyId: ref.keyId, version: ref.version };
    });
  }

  /**
   * Signs each input with the latest version of an Active asymmetric key (Vault transit's
   * batch_input): one decision for the batch (tenant, grant, key state, algorithm), the same as a
   * single sign's, which refuses the whole batch as it would refuse one signature; then each item is
   * signed on its own, and an item that cannot be (a digest the algorithm does not sign) is refused
   * alone. Every item leaves a usage record, as a single sign does.
   */
  signBatch(
    caller: Caller,
    keyRef: string,
    inputs: readonly SignedInput[],
    request: SignatureRequest,
  ): Promise<Protected & { items: readonly BatchItem<{ signature: string }>[] }> {
    return this.auditedBatch(caller, 'sign', inputs.length, async (target) => {
      const { ref, kcv } = await this.protecting(caller, keyRef, 'sign', target, request.algorithm);
      // Each signature parses nothing (the key object is the material's); a batch of two or more signs in the
      // thread pool, whatever the algorithm, so that both cores sign while the event loop serves the rest.
      const placement = inputs.length > 1 ? 'pool' : 'auto';
      const signatures = await this.materials.withMaterial(ref, kcv, (m) =>
        inputs.map((input) => settle(() => digestChecked(() => signWithAsync(m, request.algorithm, input, request.format, placement)))),
      );
      const items = (await Promise.all(signatures)).map((item) =>
        item.ok ? { ok: true as const, value: { signature: item.value.toString('base64') } } : item,
      );
      return { keyId: ref.keyId, version: ref.version, items };
    });
  }

  /**
   * Verifies a signature with one version of an asymmetric key (the latest when none is named); an
   * Active or Deactivated key verifies, as decryption does. `valid: false` for any signature that
   * does not verify, malformed ones included.
   */
  verify(
    caller: Caller,
    keyRef: string,
    input: SignedInput,
    signature: Buffer,
    request: SignatureRequest & { readonly version?: number },
  ): Promise<Protected & { valid: boolean }> {
    return this.audited(caller, 'verify', async (target) => {
      target.keyId = keyRef;
      const log = await this.states.log(caller.principal.tenantId);
      const key = log.resolveKey(keyRef);
      const { ref, kcv } = this.decide(log, caller, key, keyRef, 'verify', target, undefined, request.version);
      if (key !== undefined) requireSignatureAlgorithm(key, request.algorithm);
      const valid = await this.materials.withMaterial(ref, kcv, (m) =>
        digestChecked(() => verifyWith(publicKeyOf(m), request.algorithm, input, signature, request.format)),
      );
      return { valid, keyId: ref.keyId, version: ref.version };
    });
  }

  /**
   * Verifies each signature with the version it names (default: `request.version`, else the
   * latest). The key is decided once (tenant, grant, key state, algorithm: refused, the whole batch
   * is); each distinct version is then decided on its own, so an item naming a version that may no
   * longer verify (unknown, retired, destroyed) is refused alone. `valid: false` as for one verify.
   */
  verifyBatch(
    caller: Caller,
    keyRef: string,
    inputs: readonly VerifyBatchInput[],
    request: SignatureRequest & { readonly version?: number },
  ): Promise<Protected & { items: readonly BatchItem<{ valid: boolean; version: number }>[] }> {
    return this.auditedBatch(caller, 'verify', inputs.length, async (target) => {
      target.keyId = keyRef;
      const log = await this.states.log(caller.principal.tenantId);
      const key = log.resolveKey(keyRef);
      const batch = this.decide(log, caller, key, keyRef, 'verify', target, undefined, request.version);
      if (key !== undefined) requireSignatureAlgorithm(key, request.algorithm);
      const versions = new Map<number, Promise<BatchItem<{ ref: MaterialRef; kcv: string }>>>();
      const versionOf = (v: number) => {
        let decided = versions.get(v);
        if (decided === undefined) {
          decided = settle(() =>
            v === batch.ref.version ? batch : this.decide(log, caller, key, keyRef, 'verify', { ...target }, undefined, v),
          );
          versions.set(v, decided);
        }
        return decided;
      };
      const items = await Promise.all(
        inputs.map(async ({ input, signature, version }): Promise<BatchItem<{ valid: boolean; version: number }>> => {
          const v = version ?? batch.ref.version;
          const decided = await versionOf(v);
          if (!decided.ok) return { ...decided, version: v };
          const { ref, kcv } = decided.value;
          return settle(async () => {
            const valid = await this.materials.withMaterial(ref, kcv, (m) =>
              digestChecked(() => verifyWith(publicKeyOf(m), request.algorithm, input, signature, request.format)),
            );
            return { valid, version: ref.version };
          });
        }),
      );
      return { keyId: batch.ref.keyId, version: batch.ref.version, items };
    });
  }

  /**
   * The material of an exportable key's latest version, wrapped under the caller's RSA public key
   * (RSA-OAEP with SHA-256): Keyward never hands out material in the clear.
   */
  exportMaterial(caller: Caller, keyRef: string, publicKey: KeyObject): Promise<Protected & { wrappedKey: string; algorithm: string }> {
    return this.audited(caller, 'export', async (target) => {
      target.keyId = keyRef;
      const tenantId = caller.principal.tenantId;
      const log = await this.states.log(tenantId);
      const key = log.resolveKey(keyRef);
      requireTenantActive(log.tenant, tenantId);
      target.grantId = requireAccess(log, caller.principal, key, keyRef, 'export', {}, businessNow());
      const version = authorizeExport(log.tenant, tenantId, key, keyRef);
      const ref = { tenantId, keyId: key?.keyId ?? keyRef, version: version.version };
      target.keyId = ref.keyId;
      target.version = ref.version;
      const wrapped = await this.materials.withMaterial(ref, version.kcv, (m) => {
        // RSA-OAEP-SHA256 carries at most k - 66 bytes (k = modulus bytes): a 2048-bit key takes 190.
        const room = Math.floor((publicKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8) - 66;
        if (m.length > room) {
          throw new KeyUseError(
            'weak-wrapping-key',
            `this key's material is ${m.length} bytes; an RSA-OAEP-SHA256 wrap of it needs a modulus of at least ${(m.length + 66) * 8} bits`,
          );
        }
        return publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, m);
      });
      return { wrappedKey: wrapped.toString('base64'), algorithm: 'RSA-OAEP-SHA256', keyId: ref.keyId, version: ref.version };
    });
  }

  /**
   * The latest version of an Active key, for new ciphertexts or MACs; a new ciphertext (AES-GCM,
   * random IV) spends one of the version's encryptions (KeyUseError key-version-exhausted when none is left).
   */
  private async protecting(
    caller: Caller,
    keyRef: string,
    op: CryptoOperation,
    target: Target,
    signature?: SignatureAlgorithm,
    aad?: Buffer,
    grantedAs: GrantOperation = GRANTED_AS[op],
  ): Promise<{ ref: MaterialRef; kcv: string; keyType: KeyType }> {
    target.keyId = keyRef;
    const log = await this.states.log(caller.principal.tenantId);
    const key = log.resolveKey(keyRef);
    const chosen = this.decide(log, caller, key, keyRef, op, target, aad, undefined, grantedAs);
    if (signature !== undefined && key !== undefined) requireSignatureAlgorithm(key, signature);
    // Only AES-GCM ciphertexts (random IVs) spend the version's encryption budget.
    if ((op === 'encrypt' || op === 'generate-data-key') && !isAsymmetricKeyType(chosen.keyType)) await this.gcmBudget.spend(chosen.ref);
    return chosen;
  }

  /** The version a ciphertext names, if it may still be read. */
  private async unprotecting(
    caller: Caller,
    ciphertext: Buffer,
    op: CryptoOperation,
    target: Target,
    aad?: Buffer,
  ): Promise<{ blob: ParsedBlob; ref: MaterialRef; kcv: string }> {
    const blob = parsed(ciphertext, 'ciphertext');
    target.keyId = blob.keyId;
    target.version = blob.version;
    const log = await this.states.log(caller.principal.tenantId);
    return { blob, ...this.decide(log, caller, log.keys.get(blob.keyId), blob.keyId, op, target, aad, blob.version) };
  }

  private decide(
    log: TenantLog,
    caller: Caller,
    key: KeyState | undefined,
    keyRef: string,
    op: CryptoOperation,
    target: Target,
    aad: Buffer | undefined,
    version?: number,
    grantedAs: GrantOperation = GRANTED_AS[op],
  ): { ref: MaterialRef; kcv: string; keyType: KeyType } {
    const tenantId = caller.principal.tenantId;
    const now = businessNow();
    // The tenant first (a suspended tenant answers 423 whoever asks), then the grants (404 for a key
    // the caller holds no grant on, before anything about the key's state leaks), then the key's state.
    requireTenantActive(log.tenant, tenantId);
    target.grantId = requireAccess(log, caller.principal, key, keyRef, grantedAs, aad === undefined ? {} : { aad }, now);
    const chosen = authorizeUse(log.tenant, tenantId, key, keyRef, op, now, version);
    if (key === undefined) throw new Error('unreachable: authorizeUse refuses an unknown key');
    target.keyId = key.keyId;
    target.version = chosen.version;
    return { ref: { tenantId, keyId: key.keyId, version: chosen.version }, kcv: chosen.kcv, keyType: key.keyType };
  }

  private async audited<T>(caller: Caller, operation: CryptoOperation | 'export', work: (target: Target) => Promise<T>): Promise<T> {
    // Fail closed: no operation runs whose usage record could not be kept (audit-unavailable, not recorded).
    this.usage.admit(caller.principal.tenantId);
    const target: Target = { keyId: null, version: null, grantId: null };
    let outcome = 'ok';
    try {
      if (this.root.status().sealed) throw sealedError(this.root.status().reason ?? 'no root key');
      return await work(target);
    } catch (err: unknown) {
      outcome = usageOutcome(err);
      throw err;
    } finally {
      this.recordUsage(caller, operation, target, outcome);
    }
  }

  /**
   * audited for a batch of `count` items: one usage record per item, with the item's outcome (and
   * the version it used), or the batch's refusal for each item when the whole batch was refused.
   */
  private async auditedBatch<T extends { readonly items: readonly BatchItem<object>[] }>(
    caller: Caller,
    operation: CryptoOperation,
    count: number,
    work: (target: Target) => Promise<T>,
  ): Promise<T> {
    this.usage.admit(caller.principal.tenantId);
    const target: Target = { keyId: null, version: null, grantId: null };
    let result: T | undefined;
    let refused = 'ok';
    try {
      if (this.root.status().sealed) throw sealedError(this.root.status().reason ?? 'no root key');
      result = await work(target);
      return result;
    } catch (err: unknown) {
      refused = usageOutcome(err);
      throw err;
    } finally {
      for (let i = 0; i < count; i++) {
        const item = result?.items[i];
        const named = item === undefined ? undefined : item.ok ? (item.value as { version?: unknown }).version : item.version;
        const version = typeof named === 'number' ? named : target.version;
        const outcome = item === undefined ? refused : item.ok ? 'ok' : usageOutcome(item.error);
        this.recordUsage(caller, operation, { ...target, version }, outcome);
      }
    }
  }

  private recordUsage(caller: Caller, operation: CryptoOperation | 'export', target: Target, outcome: string): void {
    const { principalId, tenantId, role } = caller.principal;
    const { grantId, ...used } = target;
    this.usage.record({
      tenantId,
      principalId,
      role,
      operation,
      ...used,
      ...(grantId === null ? {} : { grantId }),
      outcome,
      requestId: caller.requestId,
    });
  }
}

function parsed(bytes: Buffer, what: 'ciphertext' | 'MAC'): ParsedBlob {
  try {
    return parseBlob(bytes);
  } catch (err: unknown) {
    if (err instanceof MalformedBlob) throw malformedError(what, err.message);
    throw err;
  }
}

/** The plaintext, if RSA-OAEP-SHA256 under this key type carries it. */
function fitsOaep(keyType: KeyType, plaintext: Buffer): Buffer {
  const spec = isAsymmetricKeyType(keyType) ? ASYMMETRIC_KEY_TYPES[keyType].asymmetric : undefined;
  const capacity = spec?.family === 'RSA' ? rsaOaepCapacity(spec.modulusBits) : 0;
  if (plaintext.length > capacity) {
    throw new KeyUseError(
      'plaintext-too-large',
      `a ${keyType} key encrypts at most ${capacity} bytes with RSA-OAEP-SHA256; encrypt a data key with it, and the data with that`,
      { limit: capacity },
    );
  }
  return plaintext;
}

/** Runs `work` at once (it may use material synchronously only), mapping UnsupportedDigest to its KeyUseError. */
async function digestChecked<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err: unknown) {
    if (err instanceof UnsupportedDigest) throw new KeyUseError('unsupported-digest', err.message);
    throw err;
  }
}

/** The item a piece of work makes: its value, or the typed error that refused it (anything else fails the whole batch). */
async function settle<T>(work: () => Promise<T> | T): Promise<BatchItem<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (err: unknown) {
    if (err instanceof KeyUseError || err instanceof DomainError) return { ok: false, error: err };
    throw err;
  }
}

function opened(open: () => Buffer): Buffer {
  try {
    return open();
  } catch (err: unknown) {
    if (err instanceof AuthenticationFailed) throw authenticationFailedError();
    if (err instanceof MalformedBlob) throw malformedError('ciphertext', err.message);
    throw err;
  }
}
