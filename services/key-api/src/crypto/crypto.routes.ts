import { createPublicKey, type KeyObject } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { ZodType } from 'zod';
import type { z } from 'zod';
import { ProblemError } from '@keyward/platform';
import type { Caller } from '../platform/caller';
import { type CryptoService, type SignatureRequest, wrappingKeyFault } from '@keyward/keys';
import type { SignedInput } from '@keyward/crypto';
import type { MutualTlsCheck } from '../auth/mutual-tls.check';
import {
  dataKeyBody,
  dataKeyResponse,
  decryptBody,
  decryptResponse,
  encryptBody,
  encryptResponse,
  exportMaterialBody,
  exportMaterialResponse,
  macBody,
  macResponse,
  MAX_AAD_BYTES,
  MAX_BATCH_BODY_BYTES,
  MAX_PLAINTEXT_BYTES,
  rewrapBody,
  rewrapResponse,
  signBatchBody,
  signBatchResponse,
  signBody,
  signResponse,
  verifyBatchBody,
  verifyBatchResponse,
  verifyBody,
  verifyMacBody,
  verifyMacResponse,
  verifyResponse,
} from './crypto.schema';
import { batchResults, readInputs, readItems, requireBatchSize } from './crypto.batch';

/** What a data-plane handler gets: services, the caller, the key reference (keyed routes) and the validated body. */
export interface DataPlaneInput<B> {
  readonly crypto: CryptoService;
  readonly mutualTls: MutualTlsCheck;
  readonly caller: Caller;
  readonly ref: string;
  readonly body: B;
  readonly request: FastifyRequest;
}

/** One POST route of the data plane: its path, OpenAPI description, schemas and handler. */
export interface DataPlaneRoute<S extends ZodType = ZodType> {
  /** Fastify path; `:id` is a key id or `alias/<name>` (URL-encoded). */
  readonly path: string;
  readonly summary: string;
  readonly body: S;
  readonly response: ZodType;
  /** Largest body this route reads, when not the service's (MAX_BODY_BYTES): the batch routes'. */
  readonly bodyLimit?: number;
  readonly handle: (input: DataPlaneInput<z.output<S>>) => Promise<object>;
}

/** Types one route against its own body schema, then widens it for the table. */
const route = <S extends ZodType>(r: DataPlaneRoute<S>): DataPlaneRoute => r;

const payloadTooLargeProblem = (field: string, limit: number): ProblemError =>
  new ProblemError(413, 'payload-too-large', 'Payload too large', `${field} is larger than ${limit} bytes`, { field, limit });

function decoded(field: string, value: string, limit: number): Buffer {
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length > limit) throw payloadTooLargeProblem(field, limit);
  return bytes;
}
/** The message (decoded, at most 64 KiB) or its digest. */
const signedInput = (body: { message?: string | undefined; digest?: string | undefined }): SignedInput =>
  body.digest === undefined
    ? { message: decoded('message', body.message ?? '', MAX_PLAINTEXT_BYTES) }
    : { digest: Buffer.from(body.digest, 'base64') };
/** The algorithm and, when the body names one, ECDSA's signature encoding (the service's default otherwise). */
const signatureRequest = (body: {
  algorithm: SignatureRequest['algorithm'];
  signatureFormat?: SignatureRequest['format'];
}): SignatureRequest => ({
  algorithm: body.algorithm,
  ...(body.signatureFormat ? { format: body.signatureFormat } : {}),
});
const optionalAad = (aad: string | undefined): Buffer | undefined => (aad === undefined ? undefined : decoded('aad', aad, MAX_AAD_BYTES));

/** The caller's RSA public key (see wrappingKeyFault: 2048 bits or more, exponent odd ≥ 65537), or a precise 400/422. */
function rsaPublicKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new ProblemError(400, 'validation', 'Invalid request', 'publicKey is not a PEM public key');
  }
  const fault = wrappingKeyFault(key);
  if (fault !== undefined) throw new ProblemError(422, 'weak-wrapping-key', 'Unsuitable wrapping key', fault);
  return key;
}

/**
 * The data plane. Only key-users call it: administrators manage keys but cannot use them. These
 * routes are served by Fastify directly (see DataPlaneServer), not by Nest controllers: they are
 * the hot path of every service that encrypts.
 */
export const CRYPTO_ROUTES: readonly DataPlaneRoute[] = [
  route({
    path: '/v1/keys/:id/encrypt',
    summary: 'Encrypt up to 64 KiB with the latest version of an Active key (AES-GCM; RSA keys: RSA-OAEP-SHA256, up to modulus bytes - 66)',
    body: encryptBody,
    response: encryptResponse,
    handle: ({ crypto, caller, ref, body }) =>
      crypto.encrypt(caller, ref, decoded('plaintext', body.plaintext, MAX_PLAINTEXT_BYTES), optionalAad(body.aad)),
  }),
  route({
    path: '/v1/decrypt',
    summary: 'Decrypt a Keyward ciphertext (the key and version come from the ciphertext)',
    body: decryptBody,
    response: decryptResponse,
    handle: ({ crypto, caller, body }) => crypto.decrypt(caller, Buffer.from(body.ciphertext, 'base64'), optionalAad(body.aad)),
  }),
  route({
    path: '/v1/keys/:id/data-key',
    summary: 'Generate a data key: its plaintext (use, then forget) and its ciphertext (store)',
    body: dataKeyBody,
    response: dataKeyResponse,
    handle: ({ crypto, caller, ref, body }) => crypto.dataKey(caller, ref, body.bytes, optionalAad(body.aad), true),
  }),
  route({
    path: '/v1/keys/:id/data-key/without-plaintext',
    summary: 'Generate a data key and answer only its ciphertext (to hand to another service)',
    body: dataKeyBody,
    response: dataKeyResponse,
    handle: ({ crypto, caller, ref, body }) => crypto.dataKey(caller, ref, body.bytes, optionalAad(body.aad), false),
  }),
  route({
    path: '/v1/rewrap',
    summary: "Re-encrypt a ciphertext under its key's latest version, without revealing the plaintext",
    body: rewrapBody,
    response: rewrapResponse,
    handle: ({ crypto, caller, body }) => crypto.rewrap(caller, Buffer.from(body.ciphertext, 'base64'), optionalAad(body.aad)),
  }),
  route({
    path: '/v1/keys/:id/mac',
    summary: 'HMAC-SHA256 of up to 64 KiB with the latest version of an Active HMAC key',
    body: macBody,
    response: macResponse,
    handle: ({ crypto, caller, ref, body }) => crypto.mac(caller, ref, decoded('data', body.data, MAX_PLAINTEXT_BYTES)),
  }),
  route({
    path: '/v1/keys/:id/verify-mac',
    summary: 'Verify a Keyward MAC (constant time)',
    body: verifyMacBody,
    response: verifyMacResponse,
    handle: ({ crypto, caller, ref, body }) =>
      crypto.verifyMac(caller, ref, decoded('data', body.data, MAX_PLAINTEXT_BYTES), Buffer.from(body.mac, 'base64')),
  }),
  route({
    path: '/v1/keys/:id/sign',
    summary: 'Sign a message (or a digest, RSA-PKCS1-*) with the latest version of an Active asymmetric key',
    body: signBody,
    response: signResponse,
    handle: ({ crypto, caller, ref, body }) => crypto.sign(caller, ref, signedInput(body), signatureRequest(body)),
  }),
  route({
    path: '/v1/keys/:id/verify',
    summary: 'Verify a signature with a version of an asymmetric key (Active or Deactivated); valid: false if it does not verify',
    body: verifyBody,
    response: verifyResponse,
    handle: ({ crypto, caller, ref, body }) =>
      crypto.verify(caller, ref, signedInput(body), Buffer.from(body.signature, 'base64'), {
        ...signatureRequest(body),
        ...(body.version === undefined ? {} : { version: body.version }),
      }),
  }),
  route({
    path: '/v1/keys/:id/sign/batch',
    summary:
      'Sign up to 256 messages (or digests) with the latest version of an Active asymmetric key, in one request (Vault transit batch_input); an item that cannot be signed gets its problem document in batchResults',
    body: signBatchBody,
    response: signBatchResponse,
    bodyLimit: MAX_BATCH_BODY_BYTES,
    handle: async ({ crypto, caller, ref, body }) => {
      requireBatchSize(body.batchInput.length);
      const read = readItems(body.batchInput, signedInput);
      const { keyId, version, items } = await crypto.signBatch(caller, ref, readInputs(read), signatureRequest(body));
      return { batchResults: batchResults(read, items), keyId, version };
    },
  }),
  route({
    path: '/v1/keys/:id/verify/batch',
    summary:
      'Verify up to 256 signatures with versions of an asymmetric key (Active or Deactivated), in one request; each item answers valid and the version it used, or its problem document',
    body: verifyBatchBody,
    response: verifyBatchResponse,
    bodyLimit: MAX_BATCH_BODY_BYTES,
    handle: async ({ crypto, caller, ref, body }) => {
      requireBatchSize(body.batchInput.length);
      const read = readItems(body.batchInput, (item) => ({
        input: signedInput(item),
        signature: Buffer.from(item.signature, 'base64'),
        ...(item.version === undefined ? {} : { version: item.version }),
      }));
      const { keyId, version, items } = await crypto.verifyBatch(caller, ref, readInputs(read), {
        ...signatureRequest(body),
        ...(body.version === undefined ? {} : { version: body.version }),
      });
      return { batchResults: batchResults(read, items), keyId, version };
    },
  }),
  route({
    path: '/v1/keys/:id/material',
    summary: 'Retrieve the material of an exportable key, wrapped under your RSA public key; needs mutual TLS and export enabled',
    body: exportMaterialBody,
    response: exportMaterialResponse,
    handle: async ({ crypto, mutualTls, caller, ref, body, request }) => {
      await mutualTls.require(request, caller);
      return crypto.exportMaterial(caller, ref, rsaPublicKey(body.publicKey));
    },
  }),
];
