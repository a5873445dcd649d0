import { readFileSync } from 'node:fs';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import type { KafkaSecuritySetting } from './keyward-config';

/**
 * The `ssl` and `sasl` options of every kafkajs client Keyward creates (services, CLIs, tools),
 * from KAFKA_SSL* and KAFKA_SASL*. Files (CA bundle, password) are read here, when a client is
 * created; the password is never logged. With TLS on, the broker certificate is always verified.
 */
export function kafkaClientSecurity(security: KafkaSecuritySetting): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const out: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  if (security.ssl !== null) {
    out.ssl =
      security.ssl.caFile === null
        ? { rejectUnauthorized: true }
        : { rejectUnauthorized: true, ca: [readFileSync(security.ssl.caFile, 'utf8')] };
  }
  if (security.sasl !== null) {
    const { mechanism, username, password } = security.sasl;
    const secret = password.kind === 'env' ? password.value : readFileSync(password.path, 'utf8').replace(/\r?\n$/, '');
    if (secret === '') throw new Error(`the Kafka SASL password file ${password.kind === 'file' ? password.path : ''} is empty`);
    out.sasl = { mechanism, username, password: secret } as SASLOptions;
  }
  return out;
}
