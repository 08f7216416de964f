import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { InvalidOptionError } from '../src/errors.js';

export interface MetricsServerOptions {
  /** TCP port; 0 picks a free one. @defaultValue 9464 */
  readonly port?: number;
  /** Address to bind. Loopback by default: exposing metrics beyond the host is the operator's call. @defaultValue '127.0.0.1' */
  readonly host?: string;
}

export interface MetricsServer {
  /** e.g. `http://127.0.0.1:9464/metrics` */
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `GET /metrics` in the Prometheus text format from the given registry. */
export async function startMetricsServer(registry: Registry, options: MetricsServerOptions = {}): Promise<MetricsServer> {
  const port = options.port ?? 9464;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidOptionError('port', `port must be 0..65535, got ${port}`);
  const host = options.host ?? '127.0.0.1';
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end('not found\n');
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (err: unknown) => res.writeHead(500).end(`metrics failed: ${(err as Error).message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : port;
  return {
    url: `http://${host}:${bound}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
