/** Types for broker.mjs (plain ESM so benchmarks and child-process fixtures can use it without a build). */
export declare const projectRoot: string;
export declare const defaultCacheDir: string;
export declare const KAFKA_VERSION: string;
export declare function findJava(): { java: string; version: number } | undefined;
/** Resolves the broker jars from Maven Central once (mvn, or jars.lock without it; cached in `<cacheDir>/libs`); resolves to that folder. */
export declare function ensureKafkaClasspath(cacheDir?: string): Promise<string>;
export declare function freePort(): Promise<number>;

export interface KafkaBrokerOptions {
  /** Broker data dir (storage, server.properties, broker.log). @defaultValue a new temp dir */
  dataDir?: string;
  /** Client port on 127.0.0.1. @defaultValue a free port */
  port?: number;
  /** KRaft controller port on 127.0.0.1. @defaultValue a free port */
  controllerPort?: number;
  /** Where the jars are cached. @defaultValue <project>/.cache/kafka */
  cacheDir?: string;
  /** JVM heap in MiB. @defaultValue 512 */
  heapMb?: number;
  /** Give up starting after this long, in ms. @defaultValue 90_000 */
  startTimeoutMs?: number;
  /** Also listen with SASL_SSL (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER with unsecured JWS) on a free port. */
  saslSsl?: {
    /** PEM file: the broker's private key (PKCS#8, unencrypted) and certificate chain. */
    keyStorePem: string;
    /** PEM file: CA certificates trusted for client certificates. */
    trustStorePem: string;
    /** `required` for mTLS. @defaultValue 'none' */
    clientAuth?: 'required' | 'requested' | 'none';
    /** PLAIN users: name → password. */
    plainUsers?: Record<string, string>;
    /** SCRAM-SHA-256 and -512 users: name → password (added when the storage is formatted). */
    scramUsers?: Record<string, string>;
  };
}

export declare class KafkaBroker {
  constructor(options?: KafkaBrokerOptions);
  /** The data dir (a new temp dir is created on the first start unless one was given). */
  readonly dataDir: string | undefined;
  readonly port: number | undefined;
  readonly controllerPort: number | undefined;
  /** Time the last start() took, in ms. */
  readonly startMs: number | undefined;
  readonly logPath: string | undefined;
  /** `127.0.0.1:<port>` (valid after start). */
  readonly brokers: string;
  /** `127.0.0.1:<port>` of the SASL_SSL listener (with `saslSsl`). */
  readonly saslSslBrokers: string;
  readonly pid: number | undefined;
  readonly running: boolean;
  start(): Promise<this>;
  stop(timeoutMs?: number): Promise<void>;
  kill(): Promise<void>;
  restart(): Promise<this>;
}
