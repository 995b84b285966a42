/**
 * TLS in front of a plain dev server, as a real deployment puts a TLS-terminating frontend or
 * load balancer before Temporal: certificates made with `openssl`, and a Node `tls` server that
 * speaks HTTP/2's ALPN, asks for a client certificate signed by its CA (mTLS) and pipes the bytes
 * to the dev server's plain port.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';

export interface TestCertificates {
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/** The DNS name in the server certificate (with 127.0.0.1 and ::1). */
export const SERVER_NAME = 'temporal.test';

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A CA, a server certificate and a client certificate (files in `dir`), valid for a day. */
export function makeCertificates(dir: string): TestCertificates {
  const file = (name: string) => path.join(dir, name);
  openssl(
    [
      'req',
      '-x509',
      ...EC_KEY,
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '1',
      '-subj',
      '/CN=durable-agents test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  const leaf = (name: string, cn: string, extensions: string) => {
    writeFileSync(file(`${name}.ext`), extensions);
    openssl(['req', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-set_serial',
        `0x${randomBytes(8).toString('hex')}`,
        '-days',
        '1',
        '-out',
        `${name}.pem`,
        '-extfile',
        `${name}.ext`,
      ],
      dir,
    );
  };
  const common = 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n';
  leaf(
    'server',
    SERVER_NAME,
    `${common}extendedKeyUsage=serverAuth\nsubjectAltName=DNS:${SERVER_NAME},IP:127.0.0.1,IP:::1\n`,
  );
  leaf('client', 'orchestrator-worker', `${common}extendedKeyUsage=clientAuth\n`);
  return {
    caCert: file('ca.pem'),
    serverCert: file('server.pem'),
    serverKey: file('server.key'),
    clientCert: file('client.pem'),
    clientKey: file('client.key'),
  };
}

export interface TlsProxy {
  /** host:port to connect to; IPv6 hosts in brackets. */
  address: string;
  /** Handshakes the proxy refused (a client without a certificate from the CA, say), with why. */
  refused: string[];
  close(): Promise<void>;
}

/** Terminates (m)TLS on `host` and forwards each connection to the plain `target` host:port. */
export async function startTlsProxy(options: {
  certs: TestCertificates;
  target: string;
  host?: string;
  requireClientCert?: boolean;
}): Promise<TlsProxy> {
  const { certs, target, host = '127.0.0.1', requireClientCert = true } = options;
  const separator = target.lastIndexOf(':');
  const targetHost = target.slice(0, separator).replace(/^\[|\]$/g, '');
  const targetPort = Number(target.slice(separator + 1));
  const sockets = new Set<net.Socket>();
  const refused: string[] = [];
  const server = tls.createServer(
    {
      key: readFileSync(certs.serverKey),
      cert: readFileSync(certs.serverCert),
      ca: readFileSync(certs.caCert),
      requestCert: requireClientCert,
      rejectUnauthorized: requireClientCert,
      ALPNProtocols: ['h2'],
    },
    (socket) => {
      const upstream = net.connect({ host: targetHost, port: targetPort });
      for (const s of [socket, upstream]) {
        sockets.add(s);
        s.once('close', () => sockets.delete(s));
      }
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
      socket.pipe(upstream).pipe(socket);
    },
  );
  server.on('tlsClientError', (err) => refused.push(err.message));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `${host.includes(':') ? `[${host}]` : host}:${port}`,
    refused,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
