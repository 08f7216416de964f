import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { InvalidOptionError } from '../../src/errors.js';

/** TLS of the connection to the brokers. PEM strings or Buffers; `ca` replaces the system CAs when given. */
export interface KafkaTlsOptions {
  /** CA certificate(s) the broker certificates must chain to. @defaultValue the system CAs */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  /** Client certificate chain, for mutual TLS (with `key`). */
  readonly cert?: string | Buffer;
  /** Client private key, for mutual TLS (with `cert`). */
  readonly key?: string | Buffer;
  /** Passphrase of an encrypted `key`. */
  readonly passphrase?: string;
  /** Server name checked against the broker certificate. @defaultValue the broker host */
  readonly servername?: string;
  /** Verify broker certificates. Only a test cluster should ever turn this off. @defaultValue true */
  readonly rejectUnauthorized?: boolean;
}

/**
 * SASL authentication. `oauthbearer` takes a token provider (called at connect and before the token expires);
 * the others a username and password. Secrets are never logged or put in error messages.
 */
export type KafkaSaslOptions =
  | { readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; readonly username: string; readonly password: string }
  | { readonly mechanism: 'oauthbearer'; readonly oauthBearerProvider: () => Promise<{ readonly value: string }> };

export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer'] as const;

/** What a Kafka client of this package needs to reach a cluster. */
export interface KafkaConnectionOptions {
  readonly brokers: readonly string[];
  readonly clientId?: string;
  /** TLS: `true` for the system CAs, or {@link KafkaTlsOptions}. @defaultValue undefined (plaintext) */
  readonly ssl?: boolean | KafkaTlsOptions;
  /** SASL authentication (with `ssl` unless the cluster runs SASL_PLAINTEXT). @defaultValue undefined (none) */
  readonly sasl?: KafkaSaslOptions;
}

/** Checks ssl/sasl shapes; messages name the option, never a secret. */
export function validateConnectionOptions(o: KafkaConnectionOptions): void {
  if (o.ssl !== undefined && typeof o.ssl !== 'boolean' && (typeof o.ssl !== 'object' || o.ssl === null)) throw new InvalidOptionError('ssl', 'ssl must be true or an object of TLS options (ca, cert, key, passphrase, servername, rejectUnauthorized)');
  if (typeof o.ssl === 'object' && (o.ssl.cert === undefined) !== (o.ssl.key === undefined)) throw new InvalidOptionError('ssl', 'ssl.cert and ssl.key go together (mutual TLS needs both)');
  const s = o.sasl;
  if (s === undefined) return;
  if (typeof s !== 'object' || s === null || !SASL_MECHANISMS.includes(s.mechanism)) throw new InvalidOptionError('sasl', `sasl.mechanism must be one of ${SASL_MECHANISMS.join(', ')}`);
  if (s.mechanism === 'oauthbearer') {
    if (typeof s.oauthBearerProvider !== 'function') throw new InvalidOptionError('sasl', 'sasl.oauthBearerProvider must be a function returning { value: token }');
    return;
  }
  if (typeof s.username !== 'string' || s.username.length === 0) throw new InvalidOptionError('sasl', 'sasl.username is required');
  if (typeof s.password !== 'string' || s.password.length === 0) throw new InvalidOptionError('sasl', 'sasl.password is required (a non-empty string)');
}

/** The one place a kafkajs client is built from connection options (TLS, SASL, retries, no kafkajs logging). */
export function createKafkaClient(o: KafkaConnectionOptions, fallbackClientId: string): Kafka {
  const ssl = o.ssl === undefined || typeof o.ssl === 'boolean' ? o.ssl : { ...o.ssl, ca: Array.isArray(o.ssl.ca) ? [...o.ssl.ca] : o.ssl.ca as string | Buffer | undefined };
  return new Kafka({
    clientId: o.clientId ?? fallbackClientId,
    brokers: [...o.brokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5_000 },
    ...(ssl === undefined ? {} : { ssl }),
    ...(o.sasl === undefined ? {} : { sasl: o.sasl as SASLOptions }),
  });
}
