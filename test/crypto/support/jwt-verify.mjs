// Verifies a JWT against a JWKS with the jose library (a verifier Keyward did not write).
// Input on stdin: {"jwt": "...", "jwks": {"keys": [...]}}; prints {"payload": ..., "kid": ..., "alg": ...} or {"error": "..."}.
import * as jose from 'jose';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const { jwt, jwks } = JSON.parse(input);
try {
  const { payload, protectedHeader } = await jose.jwtVerify(jwt, jose.createLocalJWKSet(jwks));
  process.stdout.write(JSON.stringify({ payload, kid: protectedHeader.kid, alg: protectedHeader.alg }));
} catch (err) {
  process.stdout.write(JSON.stringify({ error: `${err.code ?? ''} ${err.message}` }));
}
