/**
 * TLS for stream inputs (Beats, GELF over TCP), and the listening socket
 * they share: connection limit, per-listener counters, handshake timeout.
 *
 * Client certificates, as Logstash's `ssl_verify_mode`:
 *   - no `ca`                        → none: no client certificate is asked for.
 *   - `ca`, requireClientCert false → peer: a certificate is asked for; a client
 *                                      may send none, but one it sends must be
 *                                      signed by `ca`.
 *   - `ca`, requireClientCert true  → force_peer: a certificate signed by `ca`
 *                                      is required.
 * requireClientCert without `ca` is refused (there would be nothing to verify
 * against but the system's public CAs, which is never what is meant).
 *
 * A handshake that does not finish within `handshakeTimeoutMs` (default 10 s)
 * is dropped. Every failed handshake — timeout, refused or missing client
 * certificate, garbage instead of a ClientHello — is counted in
 * `logmill_input_tls_handshake_failures_total{input}` and logged.
 */
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { InputContext } from './input.js';

export interface TlsOptions {
  /** PEM certificate (chain) file of the server. */
  cert: string;
  /** PEM private key file of the server. */
  key: string;
  /** PEM file of the CA(s) that sign client certificates. */
  ca?: string;
  /** Refuse clients without a certificate signed by `ca`. Needs `ca`. */
  requireClientCert?: boolean;
  /** Drop a client whose handshake has not finished after this long. Default 10 000 ms. */
  handshakeTimeoutMs?: number;
}

export const DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

function readPem(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new Error(`TLS ${what} file ${file}: ${(err as Error).message}`);
  }
}

/** Options for `tls.createServer`, with the PEM files read. Throws a readable Error on a bad setting or an unreadable file. */
export function tlsServerOptions(opts: TlsOptions): tls.TlsOptions {
  if (opts.requireClientCert && !opts.ca) {
    throw new Error('TLS: requireClientCert needs a CA file (ca) to verify client certificates against');
  }
  const timeout = opts.handshakeTimeoutMs ?? DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS;
  if (!Number.isFinite(timeout) || timeout <= 0) throw new Error(`TLS: handshakeTimeoutMs must be a positive number, got ${timeout}`);
  const out: tls.TlsOptions = {
    cert: readPem(opts.cert, 'certificate'),
    key: readPem(opts.key, 'key'),
    handshakeTimeout: timeout,
    minVersion: 'TLSv1.2',
  };
  if (opts.ca) {
    out.ca = readPem(opts.ca, 'CA');
    out.requestCert = true;
    out.rejectUnauthorized = opts.requireClientCert === true;
  }
  return out;
}

export interface StreamServerOptions {
  /** Metrics label and log prefix, e.g. 'beats'. */
  input: string;
  tls?: TlsOptions;
  /** Connections (handshaking ones included) beyond this are refused and counted. */
  maxConnections: number;
}

export interface StreamServer {
  server: net.Server;
  /** Every open connection: the raw TCP sockets (handshaking ones included) and their TLS sockets. */
  sockets: Set<net.Socket>;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
  /** HOST:PORT actually bound (IPv6 hosts in brackets). */
  address(): string;
}

/**
 * A TCP or TLS listener. `onConnection` gets plain sockets, or TLS sockets
 * once their handshake succeeded. Sockets are half-open capable: the handler
 * ends its side itself (so it can still answer after the client's FIN).
 */
export function createStreamServer(
  opts: StreamServerOptions,
  ctx: InputContext,
  onConnection: (socket: net.Socket) => void,
): StreamServer {
  const labels = { input: opts.input };
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket): void => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  let server: net.Server;
  if (opts.tls) {
    const tlsOpts = tlsServerOptions(opts.tls);
    const verifyOptional = tlsOpts.requestCert === true && tlsOpts.rejectUnauthorized === false;
    const tlsServer = tls.createServer({ ...tlsOpts, allowHalfOpen: true });
    tlsServer.on('secureConnection', (socket: tls.TLSSocket) => {
      track(socket);
      if (verifyOptional && !socket.authorized) {
        const cert = socket.getPeerCertificate();
        if (cert && Object.keys(cert).length > 0) {
          // A certificate was sent and it does not verify: refuse, as Logstash's `peer` mode does.
          handshakeFailure(ctx, labels, opts.input, socket.remoteAddress, String(socket.authorizationError));
          socket.destroy();
          return;
        }
      }
      onConnection(socket);
    });
    tlsServer.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
      handshakeFailure(ctx, labels, opts.input, socket.remoteAddress, err.message);
      socket.destroy();
    });
    server = tlsServer;
  } else {
    server = net.createServer({ allowHalfOpen: true }, onConnection);
  }
  server.maxConnections = opts.maxConnections;
  server.on('connection', (raw: net.Socket) => {
    track(raw);
    ctx.metrics.inc('logmill_input_connections_total', 'Connections accepted', 1, labels);
  });
  server.on('drop', () => {
    ctx.metrics.inc('logmill_input_connections_refused_total', 'Connections refused at the connection limit', 1, labels);
  });
  server.on('error', (err) => {
    // Bind errors reject listen(); only a running listener's errors are logged here.
    if (server.listening) ctx.log('error', `${opts.input}: listener error: ${err.message}`);
  });
  return {
    server,
    sockets,
    address: () => formatAddress(server.address()),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function handshakeFailure(
  ctx: InputContext,
  labels: Record<string, string>,
  input: string,
  remote: string | undefined,
  reason: string,
): void {
  ctx.metrics.inc('logmill_input_tls_handshake_failures_total', 'TLS handshakes that failed or timed out', 1, labels);
  ctx.log('warn', `${input} ${remote ?? '?'}: TLS handshake failed: ${reason}`);
}

/** Starts listening; rejects on EADDRINUSE and the like. */
export function listen(server: net.Server, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

export function formatAddress(a: net.AddressInfo | string | null): string {
  if (a === null) return '';
  if (typeof a === 'string') return a;
  return a.family === 'IPv6' || a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}
