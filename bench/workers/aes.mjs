// aes-ceiling worker: AES-256-GCM over 1 KiB with Node's crypto, one thread, for argv[2] ms.
// Each operation is what an encrypt needs at minimum: a fresh 96-bit IV, AAD, the cipher, the tag.
// Prints {"ops": n, "seconds": s} as one JSON line.
import { createCipheriv, randomBytes, randomFillSync } from 'node:crypto';

const durationMs = Number(process.argv[2] ?? 3000);
const key = randomBytes(32);
const plaintext = randomBytes(1024);
const aad = Buffer.from('tnt_benchtenant00:key_benchkey000000:1');
const iv = Buffer.alloc(12);

function once() {
  randomFillSync(iv);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  cipher.final();
  return body.length + cipher.getAuthTag().length;
}

// Warm up the JIT and OpenSSL's tables before timing.
for (let i = 0; i < 20_000; i++) once();

let ops = 0;
let sink = 0;
const started = performance.now();
const deadline = started + durationMs;
while (performance.now() < deadline) {
  for (let i = 0; i < 500; i++) sink += once();
  ops += 500;
}
const seconds = (performance.now() - started) / 1000;
process.stdout.write(JSON.stringify({ ops, seconds, bytes: sink }) + '\n');
