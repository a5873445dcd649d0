import type { KeyState, KmipCipherParameters } from '@keyward/domain';
import {
  KMIP_GCM_IV_BYTES,
  KMIP_GCM_TAG_BYTES,
  blockBytes,
  type BlockCipherAlgorithm,
  type BlockMode,
  type BlockPadding,
} from '@keyward/crypto';
import { BlockCipherMode, PaddingMethod, ResultReason } from '@keyward/kmip';
import { fail } from './kmip-call';
import { parameterLabel } from './kmip-cipher-parameters';
import { kmipKeyType } from './kmip-key-types';

/** What Encrypt or Decrypt runs: every field comes from the caller's parameters or a documented default. */
export interface CipherChoice {
  readonly algorithm: BlockCipherAlgorithm;
  readonly mode: BlockMode;
  readonly padding: BlockPadding;
  /** GCM: tag bytes (Tag Length, default 16). */
  readonly tagLength?: number;
  /** IV bytes required by IV Length, if given. */
  readonly ivBytes?: number;
  /** Random IV: true, the server chooses the IV; false, the caller must give one; undefined, either. */
  readonly randomIv?: boolean;
}

const MODES: ReadonlyMap<number, BlockMode> = new Map([
  [BlockCipherMode.ECB, 'ECB'],
  [BlockCipherMode.CBC, 'CBC'],
  [BlockCipherMode.CTR, 'CTR'],
  [BlockCipherMode.GCM, 'GCM'],
]);

/** Parameters that mean nothing to a symmetric cipher (signatures, RSA): refused rather than ignored. */
const NOT_FOR_CIPHERS = [
  'hashingAlgorithm',
  'keyRoleType',
  'digitalSignatureAlgorithm',
  'saltLength',
  'maskGenerator',
  'maskGeneratorHashingAlgorithm',
  'trailerField',
];
/** GCM/CTR IV construction fields Keyward does not build IVs from (it takes or makes whole IVs). */
const IV_CONSTRUCTION = ['fixedFieldLength', 'invocationFieldLength', 'initialCounterValue'];

const num = (parameters: KmipCipherParameters, name: string): number | undefined => {
  const value = parameters[name];
  return typeof value === 'number' ? value : undefined;
};

/**
 * The cipher for a key and the Cryptographic Parameters in force (the request's, else the key's own):
 * the key's algorithm; the mode asked for (default GCM for AES, none for 3DES: it must be named);
 * padding None unless PKCS5 is asked for; GCM tag 12-16 bytes (default 16). Everything else a
 * request carries is honoured or refused here, never replaced by something else.
 */
export function chooseCipher(key: KeyState, parameters: KmipCipherParameters = {}): CipherChoice {
  const cipher = kmipKeyType(key.keyType)?.cipher;
  if (cipher === undefined)
    return fail(ResultReason.IllegalOperation, `key ${key.keyId} is a ${key.keyType} key and cannot encrypt`, 'wrong-usage');
  for (const name of NOT_FOR_CIPHERS) {
    if (parameters[name] !== undefined)
      fail(ResultReason.InvalidField, `${parameterLabel(name)} does not apply to ${cipher === 'AES' ? 'AES' : 'Triple DES'} encryption`);
  }
  for (const name of IV_CONSTRUCTION) {
    if (parameters[name] !== undefined) {
      fail(
        ResultReason.FeatureNotSupported,
        `${parameterLabel(name)} is not supported: give the whole IV/Counter/Nonce, or let the server generate it`,
      );
    }
  }
  const algorithm = num(parameters, 'cryptographicAlgorithm');
  if (algorithm !== undefined && algorithm !== kmipKeyType(key.keyType)?.algorithm) {
    fail(ResultReason.InvalidField, `Cryptographic Algorithm ${algorithm} does not match key ${key.keyId}, a ${key.keyType} key`);
  }
  const modeCode = num(parameters, 'blockCipherMode');
  if (modeCode === undefined && cipher === 'TDES')
    fail(ResultReason.InvalidField, 'a Triple DES key needs a Block Cipher Mode (ECB or CBC)');
  const mode = modeCode === undefined ? 'GCM' : MODES.get(modeCode);
  if (mode === undefined) {
    return fail(
      ResultReason.FeatureNotSupported,
      `Block Cipher Mode ${modeCode} is not supported: ECB, CBC, CTR or GCM (3DES: ECB or CBC)`,
    );
  }
  if (cipher === 'TDES' && mode !== 'ECB' && mode !== 'CBC')
    fail(ResultReason.FeatureNotSupported, `Triple DES runs in ECB or CBC mode, not ${mode}`);
  const paddingCode = num(parameters, 'paddingMethod');
  if (paddingCode !== undefined && paddingCode !== PaddingMethod.None && paddingCode !== PaddingMethod.PKCS5) {
    fail(ResultReason.FeatureNotSupported, `Padding Method ${paddingCode} is not supported: None or PKCS5`);
  }
  const padding: BlockPadding = paddingCode === PaddingMethod.PKCS5 ? 'pkcs5' : 'none';
  if (padding === 'pkcs5' && mode !== 'ECB' && mode !== 'CBC') fail(ResultReason.InvalidField, `${mode} takes no padding`);
  const tagLength = num(parameters, 'tagLength');
  if (tagLength !== undefined) {
    if (mode !== 'GCM') fail(ResultReason.InvalidField, `Tag Length applies to GCM only, not ${mode}`);
    // The OASIS cases (CS-BC-M-GCM-1-14) expect General Failure for a tag length the server cannot make.
    if (tagLength < KMIP_GCM_TAG_BYTES.min || tagLength > KMIP_GCM_TAG_BYTES.max) {
      fail(
        ResultReason.GeneralFailure,
        `invalid tag length ${tagLength}: a GCM tag is ${KMIP_GCM_TAG_BYTES.min}-${KMIP_GCM_TAG_BYTES.max} bytes`,
        'invalid-tag-length',
      );
    }
  }
  const counterLength = num(parameters, 'counterLength');
  if (counterLength !== undefined && (mode !== 'CTR' || counterLength !== 128)) {
    fail(ResultReason.FeatureNotSupported, 'Counter Length: only CTR with a 128-bit counter (the whole block) is supported');
  }
  const ivBits = num(parameters, 'ivLength');
  let ivBytes: number | undefined;
  if (ivBits !== undefined) {
    if (mode === 'ECB') fail(ResultReason.InvalidField, 'ECB takes no IV, so no IV Length');
    const fixed = mode === 'GCM' ? undefined : blockBytes(cipher) * 8;
    const inRange = ivBits % 8 === 0 && ivBits >= KMIP_GCM_IV_BYTES.min * 8 && ivBits <= KMIP_GCM_IV_BYTES.max * 8;
    if ((fixed !== undefined && ivBits !== fixed) || (fixed === undefined && !inRange)) {
      fail(
        ResultReason.InvalidField,
        `IV Length ${ivBits} bits does not fit ${mode}: ${fixed === undefined ? '8-1024 bits, whole bytes' : `${fixed} bits`}`,
      );
    }
    ivBytes = ivBits / 8;
  }
  const randomIv = parameters.randomIv;
  if (randomIv !== undefined && typeof randomIv !== 'boolean') fail(ResultReason.InvalidField, 'Random IV is a boolean');
  if (randomIv === true && mode === 'ECB') fail(ResultReason.InvalidField, 'ECB takes no IV, so no Random IV');
  return {
    algorithm: cipher,
    mode,
    padding,
    ...(mode === 'GCM' ? { tagLength: tagLength ?? KMIP_GCM_TAG_BYTES.default } : {}),
    ...(ivBytes === undefined ? {} : { ivBytes }),
    ...(typeof randomIv === 'boolean' ? { randomIv } : {}),
  };
}
