import { Inject, Injectable, Logger, Optional, type OnModuleDestroy } from '@nestjs/common';
import type { KeywardConfig } from '@keyward/config';
import {
  AuthenticationFailed,
  Keystore,
  keyCheckValue,
  matchesCheckValue,
  newKek,
  publicKeyCheckValue,
  tenantCheckValue,
  unwrapKek,
  unwrapMaterial,
  wrapKek,
  wrapMaterial,
  type MaterialRef,
} from '@keyward/crypto';
import { isAsymmetricKeyType, type EventEffects, type KeyType } from '@keyward/domain';
import { observeCache } from '@keyward/event-log';
import { KEYWARD_CONFIG, MetricsRegistry } from '@keyward/platform';
import { kekGoneError, keystoreIntegrityError, materialGoneError } from './errors';
import { MaterialCache } from './material-cache';
import { RootKeyService } from './root-key.service';

const kekEntry = (tenantId: string): string => `${tenantId}|`;
const keyEntry = (tenantId: string, keyId: string): string => `${tenantId}|${keyId}|`;
const versionEntry = (ref: MaterialRef, kcv: string): string => `${keyEntry(ref.tenantId, ref.keyId)}${ref.version}|${kcv}`;

/**
 * The key hierarchy at run time: root key → tenant KEK → key-version material. Wrapped forms live
 * in the keystore; unwrapped ones only in the bounded cache (or briefly in a caller's hands).
 */
@Injectable()
export class KeyMaterialService implements OnModuleDestroy {
  private readonly logger = new Logger('key-material');
  private readonly cache: MaterialCache;
  /** Bumped on every forget: an unwrap that started before one does not repopulate the cache. */
  private epoch = 0;
  /** Zeroes expired material even when nobody asks for it again. */
  private readonly expiry: NodeJS.Timeout;

  constructor(
    private readonly root: RootKeyService,
    private readonly keystore: Keystore,
    @Inject(KEYWARD_CONFIG) config: KeywardConfig,
    @Optional() metrics?: MetricsRegistry,
  ) {
    this.cache = new MaterialCache(config.crypto.cacheMaxEntries, config.crypto.cacheTtlMs);
    const every = Math.min(60_000, Math.max(1_000, Math.floor(config.crypto.cacheTtlMs / 2)));
    this.expiry = setInterval(() => this.cache.expire(), every).unref();
    if (metrics) observeCache(metrics.registry, 'material', this.cache.entries);
  }

  onModuleDestroy(): void {
    clearInterval(this.expiry);
    this.cache.clear();
  }

  get cachedEntries(): number {
    return this.cache.size;
  }

  /** Makes sure the tenant has a KEK (created at onboarding; lazily for tenants that predate one). */
  async ensureTenantKek(tenantId: string): Promise<void> {
    await this.withKek(tenantId, true, () => undefined);
  }

  /**
   * The check value the log records for new material: plain (HMAC keyed by the material) for
   * random AES/HMAC keys, tenant-keyed for SECRET keys, whose material may be a guessable password,
   * the digest of the public key for asymmetric keys (publicKeyCheckValue).
   */
  async checkValue(tenantId: string, keyId: string, keyType: KeyType, material: Buffer): Promise<string> {
    if (isAsymmetricKeyType(keyType)) return publicKeyCheckValue(material);
    if (keyType !== 'SECRET') return keyCheckValue(material);
    return this.withKek(tenantId, true, (kek) => tenantCheckValue(kek, tenantId, keyId, material));
  }

  /**
   * Wraps fresh material under the tenant KEK and stores it under the check value its commit
   * records (from checkValue); the caller still owns (and zeroes) `material`.
   */
  async storeNewMaterial(ref: MaterialRef, material: Buffer, kcv: string): Promise<string> {
    const wrapped = await this.withKek(ref.tenantId, true, (kek) => {
      if (!matchesCheckValue(kcv, material, { kek, tenantId: ref.tenantId, keyId: ref.keyId })) {
        throw new Error(`check value ${kcv} does not match the new material of ${ref.tenantId}/${ref.keyId} v${ref.version}`);
      }
      return wrapMaterial(kek, ref, material);
    });
    await this.keystore.putMaterial(ref, kcv, wrapped);
    return kcv;
  }

  /**
   * Runs `use` (synchronously) with the unwrapped material of one key version, from the cache or
   * one keystore read. The buffer must not escape `use`: it is cached or zeroed right after.
   */
  async withMaterial<T>(ref: MaterialRef, kcv: string, use: (material: Buffer) => T): Promise<T> {
    const id = versionEntry(ref, kcv);
    const cached = this.cache.get(id);
    if (cached) return use(cached);
    const epoch = this.epoch;
    const material = await this.unwrapStored(ref, kcv);
    try {
      return use(material);
    } finally {
      this.keep(id, material, epoch);
    }
  }

  private async unwrapStored(ref: MaterialRef, kcv: string): Promise<Buffer> {
    const sealed = await this.keystore.material(ref, kcv);
    if (sealed === null) {
      this.logger.warn(`no material in the keystore for ${ref.tenantId}/${ref.keyId} v${ref.version}`);
      throw materialGoneError(ref.keyId, ref.version);
    }
    let material: Buffer;
    try {
      material = await this.withKek(ref.tenantId, false, (kek) => {
        const unwrapped = unwrapMaterial(kek, ref, sealed);
        if (matchesCheckValue(kcv, unwrapped, { kek, tenantId: ref.tenantId, keyId: ref.keyId })) return unwrapped;
        unwrapped.fill(0);
        this.logger.error(`keystore entry for ${ref.tenantId}/${ref.keyId} v${ref.version} has the wrong check value`);
        throw keystoreIntegrityError(`the material of version ${ref.version} of key ${ref.keyId}`);
      });
    } catch (err: unknown) {
      if (!(err instanceof AuthenticationFailed)) throw err;
      this.logger.error(`keystore entry for ${ref.tenantId}/${ref.keyId} v${ref.version} failed authentication`);
      throw keystoreIntegrityError(`the material of version ${ref.version} of key ${ref.keyId}`);
    }
    return material;
  }

  /** Hands a buffer to the cache, or zeroes it when the cache does not keep it. */
  private keep(id: string, material: Buffer, epoch: number): void {
    if (epoch !== this.epoch || !this.cache.set(id, material)) material.fill(0);
  }

  /** Drops a key's unwrapped material from memory (deactivated, compromised, scheduled for destruction, destroyed: effectsOf). */
  forgetKey(tenantId: string, keyId: string): void {
    this.epoch++;
    this.cache.forget(keyEntry(tenantId, keyId));
  }

  /** Drops everything of a tenant from memory, KEK included (suspended, offboarded). */
  forgetTenant(tenantId: string): void {
    this.epoch++;
    this.cache.forget(kekEntry(tenantId));
  }

  /** Drops what a commit's effects (the domain's effectsOf) say may no longer be used: a tenant's KEK, keys' material. */
  forgetEffects(tenantId: string, effects: Pick<EventEffects, 'forgetTenant' | 'forgetKeys'>): void {
    if (effects.forgetTenant) this.forgetTenant(tenantId);
    for (const keyId of effects.forgetKeys) this.forgetKey(tenantId, keyId);
  }

  private async withKek<T>(tenantId: string, create: boolean, use: (kek: Buffer) => T): Promise<T> {
    const id = kekEntry(tenantId);
    const cached = this.cache.get(id);
    if (cached) return use(cached);
    const epoch = this.epoch;
    const rootKey = await this.root.rootKey();
    let stored = await this.keystore.kek(tenantId);
    if (stored === null) {
      if (!create) throw kekGoneError(tenantId);
      const fresh = newKek();
      stored = await this.keystore.putKekIfAbsent(tenantId, wrapKek(rootKey, tenantId, fresh), keyCheckValue(rootKey));
      fresh.fill(0);
      this.logger.log(`created the key-encrypting key of tenant ${tenantId}`);
    }
    let kek: Buffer;
    try {
      kek = unwrapKek(rootKey, tenantId, stored.sealed);
    } catch (err: unknown) {
      if (!(err instanceof AuthenticationFailed)) throw err;
      this.logger.error(`the KEK of tenant ${tenantId} failed authentication`);
      throw keystoreIntegrityError(`the key-encrypting key of tenant ${tenantId}`);
    }
    try {
      return use(kek);
    } finally {
      this.keep(id, kek, epoch);
    }
  }
}
