// The http-ceiling server: bare Fastify on the same Node, with the same TLS certificate as key-api,
// answering a fixed JSON document of the same size as key-api's encrypt answer. No auth, no
// logging, no framework on top: the most this machine serves with this TLS setting.
// Config (JSON in argv[2]): { port, host, tls: { cert, key } | null, responseBytes, bodyLimit }.
// Prints {"port": n} once listening; stops on SIGTERM.
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const config = JSON.parse(process.argv[2] ?? '{}');
const app = Fastify({
  logger: false,
  bodyLimit: config.bodyLimit ?? 128 * 1024,
  ...(config.tls ? { https: { cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) } } : {}),
});

// Shaped like an encrypt answer; the ciphertext is padded so the serialized body has exactly
// `responseBytes` bytes.
const skeleton = { ciphertext: '', keyId: 'key_0000000000000000000000', version: 1 };
const pad = Math.max(0, (config.responseBytes ?? 1500) - Buffer.byteLength(JSON.stringify(skeleton)));
const answer = { ...skeleton, ciphertext: 'A'.repeat(pad) };

// Parse the request body like the service does (Fastify's JSON parser), answer the fixed document.
app.post('/ceiling', async (request) => {
  if (typeof request.body !== 'object' || request.body === null) throw new Error('expected a JSON body');
  return answer;
});
app.get('/health', async () => ({ ok: true }));

await app.listen({ port: config.port ?? 0, host: config.host ?? '127.0.0.1' });
process.stdout.write(JSON.stringify({ port: app.server.address().port, responseBytes: Buffer.byteLength(JSON.stringify(answer)) }) + '\n');
process.once('SIGTERM', () => {
  app.close().then(() => process.exit(0));
});
