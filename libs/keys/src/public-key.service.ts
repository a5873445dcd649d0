import { Injectable } from '@nestjs/common';
import { publicKeyDer, publicKeyForms, type PublicKeyForms } from '@keyward/crypto';
import { authorizePublicKey, isAsymmetricKeyType, publishedSigningKeys, type KeyState, type KeyVersionState } from '@keyward/domain';
import { sealedError } from './errors';
import { KeyMaterialService } from './key-material.service';
import { KeyStateSource } from './key-state.source';
import { RootKeyService } from './root-key.service';

/** One version's public key, with what identifies it. */
export interface PublicKeyAnswer extends PublicKeyForms {
  readonly keyId: string;
  readonly version: number;
  readonly keyType: string;
  /** The version's check value: `pk1.` + SHA-256 of the SPKI DER, as the key's events record it. */
  readonly kcv: string;
}

/** A JSON Web Key Set (RFC 7517) of a tenant's published public keys. */
export interface Jwks {
  readonly keys: readonly PublicKeyForms['jwk'][];
}

/**
 * Public keys of asymmetric key versions, derived from the private key (the version's material,
 * unwrapped through the cache and checked against the committed digest on every unwrap). Reads,
 * not crypto operations: they leave no usage record. The kid is `<keyId>:<version>`.
 */
@Injectable()
export class PublicKeyService {
  constructor(
    private readonly root: RootKeyService,
    private readonly states: KeyStateSource,
    private readonly materials: KeyMaterialService,
  ) {}

  async publicKey(tenantId: string, keyRef: string, version?: number): Promise<PublicKeyAnswer> {
    this.requireUnsealed();
    const log = await this.states.log(tenantId);
    const key = log.resolveKey(keyRef);
    const chosen = authorizePublicKey(log.tenant, tenantId, key, keyRef, version);
    if (key === undefined) throw new Error('unreachable: authorizePublicKey refuses unknown keys');
    const forms = await this.forms(tenantId, key, chosen);
    return { keyId: key.keyId, version: chosen.version, keyType: key.keyType, kcv: chosen.kcv, ...forms };
  }

  /** The tenant's JWKS: the live versions of its Active asymmetric keys (publishedSigningKeys). */
  async jwks(tenantId: string): Promise<Jwks> {
    this.requireUnsealed();
    const log = await this.states.log(tenantId);
    // The same tenant rule as every key read: a suspended or offboarded tenant publishes nothing.
    if (log.tenant === undefined || log.tenant.status !== 'Active') return { keys: [] };
    const keys: PublicKeyForms['jwk'][] = [];
    for (const { key, version } of publishedSigningKeys(log.keys.values())) keys.push((await this.forms(tenantId, key, version)).jwk);
    return { keys };
  }

  private forms(tenantId: string, key: KeyState, version: KeyVersionState): Promise<PublicKeyForms> {
    const keyType = key.keyType;
    if (!isAsymmetricKeyType(keyType)) throw new Error(`${keyType} has no public key`);
    const ref = { tenantId, keyId: key.keyId, version: version.version };
    return this.materials.withMaterial(ref, version.kcv, (m) =>
      publicKeyForms(publicKeyDer(m), keyType, `${key.keyId}:${version.version}`),
    );
  }

  private requireUnsealed(): void {
    const status = this.root.status();
    if (status.sealed) throw sealedError(status.reason ?? 'no root key');
  }
}
