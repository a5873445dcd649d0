import { z } from 'zod';
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithm } from '@keyward/domain';

/** Most plaintext one request may carry (decoded bytes). */
export const MAX_PLAINTEXT_BYTES = 64 * 1024;
/** Most AAD one request may carry (decoded bytes). */
export const MAX_AAD_BYTES = 8 * 1024;
/** Most bytes of one request body key-api reads (a larger one is 413 before it is parsed). */
export const MAX_BODY_BYTES = 128 * 1024;

/**
 * Strict standard base64 (padding required): what Buffer.from would silently misread is refused
 * here. The language is groups of four with a padded last group. Checked without a regex (one over
 * 64 KiB costs more than the AES-GCM that follows): Node's decoder skips what is not in its alphabet
 * and stops at a `=`, so a string of a length that is a multiple of 4 is strict base64 exactly when
 * it decodes to all the bytes its length promises and holds none of base64url's `-` and `_` (the
 * decoder's only extra letters).
 */
export const isStrictBase64 = (value: string): boolean => {
  if (value.length % 4 !== 0) return false;
  const padding = value.endsWith('==') ? 2 : value.endsWith('=') ? 1 : 0;
  return (
    Buffer.byteLength(value, 'utf8') === value.length && // ASCII only: the decoder reads a wider character by its low byte
    Buffer.from(value, 'base64').length === (value.length / 4) * 3 - padding &&
    !value.includes('-') &&
    !value.includes('_')
  );
};
const base64 = (what: string, maxChars: number) =>
  z
    .string()
    .max(maxChars, `${what} is too long`)
    .refine(isStrictBase64, `${what} must be standard base64 (with padding)`)
    .describe(`${what}, base64`);
const base64Chars = (bytes: number): number => Math.ceil(bytes / 3) * 4;
/** Most base64 characters of a signature, or of a MAC blob (a header and a 32-byte tag). */
const SHORT_BLOB_CHARS = base64Chars(1024);
/**
 * Plaintext limits are checked after decoding, so that an oversized plaintext answers 413, not 400.
 * Its schema admits as many characters as still fit in MAX_BODY_BYTES beside the largest AAD (or
 * signature, or MAC) and the JSON around them: every body the document calls valid is read and
 * answered, none is cut off by the body limit (which closes the connection while the client sends).
 */
const PLAINTEXT_MAX_CHARS = Math.floor((MAX_BODY_BYTES - base64Chars(MAX_AAD_BYTES) - SHORT_BLOB_CHARS - 512) / 4) * 4;
const plaintext = base64('plaintext', PLAINTEXT_MAX_CHARS);
const aad = base64('aad', base64Chars(MAX_AAD_BYTES)).optional().describe('Additional authenticated data, base64: needed again to decrypt');
const blob = (what: string) => base64(what, base64Chars(MAX_PLAINTEXT_BYTES + 256)).min(1);

export const encryptBody = z.strictObject({ plaintext, aad });
export const decryptBody = z.strictObject({ ciphertext: blob('ciphertext'), aad });
export const rewrapBody = decryptBody;
export const dataKeyBody = z.strictObject({
  bytes: z
    .union([z.literal(16), z.literal(24), z.literal(32)])
    .default(32)
    .describe('Data key length in bytes'),
  aad,
});
export const macBody = z.strictObject({ data: plaintext.describe('data, base64') });
export const verifyMacBody = z.strictObject({ data: plaintext.describe('data, base64'), mac: base64('mac', SHORT_BLOB_CHARS).min(1) });

const versioned = { keyId: z.string(), version: z.number().int().describe('Key version used') };
export const encryptResponse = z.object({ ciphertext: z.string().describe('Self-describing Keyward ciphertext, base64'), ...versioned });
export const decryptResponse = z.object({ plaintext: z.string().describe('base64'), ...versioned });
export const dataKeyResponse = z.object({
  ciphertext: z.string().describe('The data key encrypted under the key: store it with your data'),
  plaintext: z.string().optional().describe('The data key, base64: use it, then forget it (absent for without-plaintext)'),
  ...versioned,
});
export const rewrapResponse = encryptResponse.extend({ previousVersion: z.number().int() });
export const macResponse = z.object({ mac: z.string().describe('Self-describing Keyward MAC, base64'), ...versioned });
export const verifyMacResponse = z.object({ valid: z.boolean(), ...versioned });

export const exportMaterialBody = z.strictObject({
  publicKey: z
    .string()
    .min(100)
    .max(16 * 1024)
    .describe('PEM RSA public key (2048 to 16384 bits, odd public exponent of at least 65537) to wrap the material under'),
});
export const exportMaterialResponse = z.object({
  wrappedKey: z.string().describe('The key material, RSA-OAEP (SHA-256) encrypted under your public key, base64'),
  algorithm: z.literal('RSA-OAEP-SHA256'),
  keyId: z.string(),
  version: z.number().int(),
});

const signatureAlgorithms = Object.keys(SIGNATURE_ALGORITHMS) as [SignatureAlgorithm, ...SignatureAlgorithm[]];
const signed = {
  message: plaintext.optional().describe('The message to sign or verify, base64 (up to 64 KiB); or send digest'),
  digest: base64('digest', base64Chars(64))
    .optional()
    .describe("The message's digest, base64, hashed with the algorithm's hash (RSA-PKCS1-* only); or send message"),
  algorithm: z.enum(signatureAlgorithms).describe('Signature algorithm; the key type decides which it admits'),
  signatureFormat: z
    .enum(['der', 'ieee-p1363'])
    .optional()
    .describe('ECDSA signature encoding: der (default; OpenSSL, X.509) or ieee-p1363 (r‖s: JOSE, WebCrypto)'),
};
const oneInput = (b: { message?: string | undefined; digest?: string | undefined }): boolean =>
  (b.message === undefined) !== (b.digest === undefined);
const ONE_INPUT = 'send exactly one of message and digest';

export const signBody = z.strictObject(signed).refine(oneInput, ONE_INPUT);
export const verifyBody = z
  .strictObject({
    ...signed,
    signature: base64('signature', SHORT_BLOB_CHARS).min(1),
    version: z.number().int().min(1).optional().describe('Key version that made the signature (default: the latest)'),
  })
  .refine(oneInput, ONE_INPUT);
export const signResponse = z.object({ signature: z.string().describe('The signature, base64'), ...versioned });
export const verifyResponse = z.object({ valid: z.boolean(), ...versioned });

/** Most items one sign or verify batch may hold (more: 413 for the whole request). */
export const MAX_BATCH_ITEMS = 256;
/** Most bytes of a batch request body (the batch routes' own limit; one message is still at most MAX_PLAINTEXT_BYTES). */
export const MAX_BATCH_BODY_BYTES = 1024 * 1024;

/** A batch item's message: any length the batch body holds, so that one too large is refused alone (413 in its result). */
const batchSigned = {
  message: base64('message', MAX_BATCH_BODY_BYTES)
    .optional()
    .describe('The message to sign or verify, base64 (up to 64 KiB); or send digest'),
  digest: signed.digest,
};
const batchInput = <T extends z.ZodType>(item: T) =>
  z.array(item).min(1).describe(`The items, in order (at most ${MAX_BATCH_ITEMS}; more: 413): batchResults answers them in the same order`);
const batchOptions = { algorithm: signed.algorithm, signatureFormat: signed.signatureFormat };

export const signBatchBody = z.strictObject({
  ...batchOptions,
  batchInput: batchInput(z.strictObject(batchSigned).refine(oneInput, ONE_INPUT)),
});
export const verifyBatchBody = z.strictObject({
  ...batchOptions,
  version: z.number().int().min(1).optional().describe("Key version of items that name none (default: the key's latest)"),
  batchInput: batchInput(
    z
      .strictObject({
        ...batchSigned,
        signature: base64('signature', SHORT_BLOB_CHARS).min(1),
        version: z.number().int().min(1).optional().describe('Key version that made this signature (default: the batch version)'),
      })
      .refine(oneInput, ONE_INPUT),
  ),
});

/** An item that could not be done: its RFC 9457 problem document (the one a single request would have answered with). */
const itemError = z
  .object({
    error: z
      .looseObject({ type: z.string(), title: z.string(), status: z.number().int(), detail: z.string().optional() })
      .describe('RFC 9457 problem document of this item (with its extensions, as a whole request would have it)'),
  })
  .describe('An item refused alone');
export const signBatchResponse = z.object({
  batchResults: z.array(z.union([z.object({ signature: z.string().describe('The signature, base64') }), itemError])),
  ...versioned,
});
export const verifyBatchResponse = z.object({
  batchResults: z.array(z.union([z.object({ valid: z.boolean(), version: z.number().int() }), itemError])),
  ...versioned,
});
