// A throwaway certificate authority for the SASL_SSL tests: CA, broker certificate (127.0.0.1/localhost) and
// client certificate, made with openssl in a temp dir.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  readonly dir: string;
  /** CA certificate (PEM file path); also the broker's trust store for client certificates. */
  readonly caPem: string;
  /** Broker key store: private key + certificate + CA (PEM file path). */
  readonly brokerKeyStorePem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'nextclick-pki-'));
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=nextclick-test-ca'], dir);
  const leaf = (name: string, ext: string) => {
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`], dir);
  };
  leaf('broker', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  leaf('client', 'extendedKeyUsage=clientAuth\n');
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  writeFileSync(join(dir, 'broker-keystore.pem'), read('broker.key') + read('broker.pem') + read('ca.pem'));
  return { dir, caPem: join(dir, 'ca.pem'), brokerKeyStorePem: join(dir, 'broker-keystore.pem'), clientCertPem: join(dir, 'client.pem'), clientKeyPem: join(dir, 'client.key') };
}
