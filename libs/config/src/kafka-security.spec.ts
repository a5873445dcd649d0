import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kafkaClientSecurity } from './kafka-security';
import { ConfigError, loadConfig } from './load-config';

describe('Kafka TLS and SASL settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kw-kafka-sec-'));
  writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  writeFileSync(join(dir, 'password'), 's3cret-from-file\n');

  it('is plaintext without SASL by default', () => {
    expect(loadConfig({}).kafka.security).toEqual({ ssl: null, sasl: null });
    expect(kafkaClientSecurity(loadConfig({}).kafka.security)).toEqual({});
  });

  it('gives kafkajs TLS that verifies the broker (with the CA file) and SCRAM with the password file', () => {
    const config = loadConfig(
      {
        KAFKA_SSL: 'on',
        KAFKA_SSL_CA_FILE: 'ca.pem',
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: 'keyward',
        KAFKA_SASL_PASSWORD_FILE: 'password',
      },
      dir,
    );
    expect(config.kafka.security).toEqual({
      ssl: { caFile: join(dir, 'ca.pem') },
      sasl: { mechanism: 'scram-sha-512', username: 'keyward', password: { kind: 'file', path: join(dir, 'password') } },
    });
    expect(kafkaClientSecurity(config.kafka.security)).toEqual({
      ssl: { rejectUnauthorized: true, ca: ['-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'] },
      sasl: { mechanism: 'scram-sha-512', username: 'keyward', password: 's3cret-from-file' },
    });
    const inEnv = loadConfig({
      KAFKA_SSL: 'on',
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD: 'p',
    });
    expect(kafkaClientSecurity(inEnv.kafka.security)).toEqual({
      ssl: { rejectUnauthorized: true },
      sasl: { mechanism: 'scram-sha-256', username: 'u', password: 'p' },
    });
  });

  it('refuses incomplete or unsafe combinations, never echoing the password', () => {
    const problems = (env: Record<string, string>): string => {
      try {
        loadConfig(env);
      } catch (err: unknown) {
        if (err instanceof ConfigError) return err.message;
        throw err;
      }
      return '';
    };
    expect(problems({ KAFKA_SASL_USERNAME: 'u' })).toMatch(/set KAFKA_SASL_MECHANISM too/);
    expect(problems({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_PASSWORD: 'p' })).toMatch(/KAFKA_SASL_USERNAME: required/);
    expect(problems({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u' })).toMatch(/set exactly one/);
    expect(
      problems({
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: 'u',
        KAFKA_SASL_PASSWORD: 'p',
        KAFKA_SASL_PASSWORD_FILE: 'f',
      }),
    ).toMatch(/set exactly one/);
    expect(problems({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' })).toMatch(/needs KAFKA_SSL=on/);
    expect(problems({ KAFKA_SSL_CA_FILE: 'ca.pem' })).toMatch(/only with KAFKA_SSL=on/);
    const bad = problems({ KAFKA_SASL_MECHANISM: 'md5', KAFKA_SASL_PASSWORD: 'hunter2-secret' });
    expect(bad).toMatch(/KAFKA_SASL_MECHANISM/);
    expect(bad).not.toContain('hunter2-secret');
  });
});
