// sign-ceiling worker: signatures over 1 KiB with Node's crypto, one thread, for argv[2] ms, with
// the key of argv[3] (ecdsa-p256: ECDSA P-256 SHA-256; rsa-2048: RSA PKCS#1 v1.5 SHA-256), the
// signing algorithms of the sign-ecdsa-p256 and sign-rsa-2048 scenarios. The private key is a
// KeyObject made once: the ceiling is the signature itself.
// Prints {"ops": n, "seconds": s} as one JSON line.
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';

const durationMs = Number(process.argv[2] ?? 3000);
const kind = process.argv[3] ?? 'ecdsa-p256';
const { privateKey } =
  kind === 'rsa-2048' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
const message = randomBytes(1024);
const once = () => sign('sha256', message, privateKey).length;

// Warm up before timing.
for (let i = 0; i < (kind === 'rsa-2048' ? 200 : 2_000); i++) once();

let ops = 0;
let sink = 0;
const batch = kind === 'rsa-2048' ? 10 : 100;
const started = performance.now();
const deadline = started + durationMs;
while (performance.now() < deadline) {
  for (let i = 0; i < batch; i++) sink += once();
  ops += batch;
}
const seconds = (performance.now() - started) / 1000;
process.stdout.write(JSON.stringify({ ops, seconds, bytes: sink }) + '\n');
