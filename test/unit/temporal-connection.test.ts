/**
 * How the processes read where Temporal is and how to reach it (temporal/connection.ts): the
 * defaults, a TOML profile file, TEMPORAL_* overrides, IPv6, and bad values named by their key.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { after, test } from 'node:test';
import { ConfigError } from '../../config/config-errors';
import { loadTemporalConfig } from '../../temporal/config';
import { describeConnection, loadTemporalConnection, temporalConnectOptions } from '../../temporal/connection';
import { missingSearchAttributesMessage, mayRegisterSearchAttributes } from '../../temporal/search-attributes';

const dir = mkdtempSync(path.join(os.tmpdir(), 'temporal-connection-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// Not real keys: the loader checks only that they are PEM; the TLS integration test uses real ones.
const CA_PEM = '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n';
const CERT_PEM = '-----BEGIN CERTIFICATE-----\nclient\n-----END CERTIFICATE-----\n';
const KEY_PEM = '-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n';
const ca = path.join(dir, 'ca.pem');
const cert = path.join(dir, 'client.pem');
const key = path.join(dir, 'client.key');
writeFileSync(ca, CA_PEM);
writeFileSync(cert, CERT_PEM);
writeFileSync(key, KEY_PEM);

function writeToml(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

const PROFILES = writeToml(
  'temporal.toml',
  `
[profile.default]
address = "127.0.0.1:7999"

[profile.prod]
address = "prod.example.internal:7233"
namespace = "agents-prod"

[profile.prod.tls]
server_name = "temporal.example.internal"
server_ca_cert_path = "${ca}"
client_cert_path = "${cert}"
client_key_path = "${key}"

[profile.prod.grpc_meta]
x-team = "agents"

[profile.cloud]
address = "agents.a1b2c.tmprl.cloud:7233"
namespace = "agents.a1b2c"
api_key = "secret-key-123"
`,
);

/** The keys a ConfigError names, for assertions that do not depend on the wording. */
function keysOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.problems.map((p) => p.key);
  }
  assert.fail('expected a ConfigError');
}

test('nothing set: the local dev server, plain gRPC, as before', () => {
  const c = loadTemporalConnection({ HOME: dir });
  assert.equal(c.address, '127.0.0.1:7233');
  assert.equal(c.namespace, 'default');
  assert.equal(c.access.explicit, false);
  assert.deepEqual(temporalConnectOptions(c), { address: '127.0.0.1:7233' });
  // A config made by hand (tests) connects plainly to its address.
  assert.deepEqual(temporalConnectOptions({ address: 'h:1' }), { address: 'h:1' });
});

test('TEMPORAL_ADDRESS takes host:port, IPv6 in brackets included', () => {
  for (const address of ['[::1]:7233', '[2001:db8::1]:443', 'temporal.internal:7233', '10.0.0.5:1']) {
    const c = loadTemporalConnection({ TEMPORAL_ADDRESS: address });
    assert.equal(c.address, address);
    assert.equal(c.access.explicit, true);
    assert.deepEqual(temporalConnectOptions(c), { address });
  }
  for (const address of ['no-port', '::1:7233', '[::1]', 'host:99999', 'host:0', 'http://host:7233', 'a b:1']) {
    assert.deepEqual(
      keysOf(() => loadTemporalConnection({ TEMPORAL_ADDRESS: address })),
      ['TEMPORAL_ADDRESS'],
      address,
    );
  }
  assert.throws(() => loadTemporalConfig({ TEMPORAL_ADDRESS: 'no-port' }), /TEMPORAL_ADDRESS: must be host:port/);
});

test('a profile of a TOML file gives address, namespace, mTLS files and metadata', () => {
  const c = loadTemporalConnection({ TEMPORAL_CONFIG_FILE: PROFILES, TEMPORAL_PROFILE: 'prod' });
  assert.equal(c.address, 'prod.example.internal:7233');
  assert.equal(c.namespace, 'agents-prod');
  assert.equal(c.access.source, `profile "prod" of ${PROFILES}`);
  const options = temporalConnectOptions(c);
  assert.equal(options.apiKey, undefined);
  assert.deepEqual(options.metadata, { 'x-team': 'agents' });
  const tls = options.tls as {
    serverNameOverride?: string;
    serverRootCACertificate?: Uint8Array;
    clientCertPair?: { crt: Uint8Array; key: Uint8Array };
  };
  assert.equal(tls.serverNameOverride, 'temporal.example.internal');
  assert.equal(Buffer.from(tls.serverRootCACertificate!).toString(), CA_PEM);
  assert.equal(Buffer.from(tls.clientCertPair!.crt).toString(), CERT_PEM);
  assert.equal(Buffer.from(tls.clientCertPair!.key).toString(), KEY_PEM);
  assert.match(
    describeConnection(c),
    /^prod\.example\.internal:7233 \(namespace "agents-prod", mTLS, profile "prod" of /,
  );
});

test('the "default" profile is used when only the file is named', () => {
  const c = loadTemporalConnection({ TEMPORAL_CONFIG_FILE: PROFILES });
  assert.equal(c.address, '127.0.0.1:7999');
  assert.equal(c.access.explicit, true);
});

test('an API key turns TLS on, and stays out of the start-up line', () => {
  const c = loadTemporalConnection({ TEMPORAL_CONFIG_FILE: PROFILES, TEMPORAL_PROFILE: 'cloud' });
  const options = temporalConnectOptions(c);
  assert.equal(options.apiKey, 'secret-key-123');
  assert.equal(options.tls, true);
  assert.equal(mayRegisterSearchAttributes(c), false);
  const line = describeConnection(c);
  assert.doesNotMatch(line, /secret-key-123/);
  // Nor does it show when the config is logged or serialized.
  assert.doesNotMatch(
    JSON.stringify(loadTemporalConfig({ TEMPORAL_CONFIG_FILE: PROFILES, TEMPORAL_PROFILE: 'cloud' })),
    /secret-key-123/,
  );
  assert.doesNotMatch(inspect(c), /secret-key-123/);
  const mtls = loadTemporalConnection({ TEMPORAL_CONFIG_FILE: PROFILES, TEMPORAL_PROFILE: 'prod' });
  const shown = { source: `profile "prod" of ${PROFILES}`, explicit: true, tls: 'mTLS' };
  assert.deepEqual(JSON.parse(JSON.stringify(mtls.access)), shown);
  assert.doesNotMatch(inspect(mtls, { depth: 9 }), /Uint8Array|Buffer/);
  assert.match(line, /TLS \+ API key/);
});

test('TEMPORAL_* variables override the profile', () => {
  const other = path.join(dir, 'other-ca.pem');
  writeFileSync(other, CA_PEM.replace('ca', 'other'));
  const c = loadTemporalConnection({
    TEMPORAL_CONFIG_FILE: PROFILES,
    TEMPORAL_PROFILE: 'prod',
    TEMPORAL_ADDRESS: '[::1]:7234',
    TEMPORAL_NAMESPACE: 'agents-staging',
    TEMPORAL_TLS_SERVER_NAME: 'staging.internal',
    TEMPORAL_TLS_SERVER_CA_CERT_DATA: CA_PEM.replace('ca', 'inline'),
    TEMPORAL_GRPC_META_X_TEAM: 'staging',
  });
  assert.equal(c.address, '[::1]:7234');
  assert.equal(c.namespace, 'agents-staging');
  assert.equal(c.access.source, `profile "prod" of ${PROFILES} and environment`);
  const options = temporalConnectOptions(c);
  const tls = options.tls as { serverNameOverride?: string; serverRootCACertificate?: Uint8Array };
  assert.equal(tls.serverNameOverride, 'staging.internal');
  // Data in the environment replaces the profile's path rather than clashing with it.
  assert.match(Buffer.from(tls.serverRootCACertificate!).toString(), /inline/);
  assert.deepEqual(options.metadata, { 'x-team': 'staging' });

  const off = loadTemporalConnection({
    TEMPORAL_CONFIG_FILE: PROFILES,
    TEMPORAL_PROFILE: 'prod',
    TEMPORAL_TLS: 'false',
  });
  assert.equal(temporalConnectOptions(off).tls, false);
});

test('TLS from the environment alone, without a file', () => {
  const c = loadTemporalConnection({
    TEMPORAL_ADDRESS: 'temporal.internal:7233',
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca,
    TEMPORAL_TLS_CLIENT_CERT_PATH: cert,
    TEMPORAL_TLS_CLIENT_KEY_PATH: key,
  });
  const tls = temporalConnectOptions(c).tls as { clientCertPair?: { crt: Uint8Array } };
  assert.equal(Buffer.from(tls.clientCertPair!.crt).toString(), CERT_PEM);
  assert.equal(c.access.source, 'environment');
  assert.deepEqual(temporalConnectOptions(loadTemporalConnection({ TEMPORAL_TLS: 'true' })).tls, {});
});

test('the default file is read only when TEMPORAL_PROFILE asks for it', () => {
  const xdg = path.join(dir, 'xdg');
  mkdirSync(path.join(xdg, 'temporalio'), { recursive: true });
  writeFileSync(path.join(xdg, 'temporalio', 'temporal.toml'), '[profile.default]\naddress = "10.1.2.3:7233"\n');
  assert.equal(loadTemporalConnection({ XDG_CONFIG_HOME: xdg }).address, '127.0.0.1:7233');
  assert.equal(loadTemporalConnection({ XDG_CONFIG_HOME: xdg, TEMPORAL_PROFILE: 'default' }).address, '10.1.2.3:7233');
});

test('bad values stop start-up naming the variable, or the profile key and its file', () => {
  const file = PROFILES;
  assert.deepEqual(
    keysOf(() => loadTemporalConnection({ TEMPORAL_CONFIG_FILE: path.join(dir, 'nope.toml') })),
    ['TEMPORAL_CONFIG_FILE'],
  );
  assert.deepEqual(
    keysOf(() => loadTemporalConnection({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'staging' })),
    ['TEMPORAL_PROFILE'],
  );
  assert.deepEqual(
    keysOf(() => loadTemporalConnection({ TEMPORAL_PROFILE: 'prod', HOME: dir, XDG_CONFIG_HOME: '' })),
    ['TEMPORAL_PROFILE'],
  );
  assert.deepEqual(
    keysOf(() => loadTemporalConnection({ TEMPORAL_API_KEY: '' })),
    ['TEMPORAL_API_KEY'],
  );
  assert.deepEqual(
    keysOf(() => loadTemporalConnection({ TEMPORAL_TLS: 'yes' })),
    ['TEMPORAL_TLS'],
  );
  assert.deepEqual(
    keysOf(() => loadTemporalConnection({ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' })),
    ['TEMPORAL_TLS_DISABLE_HOST_VERIFICATION'],
  );
  assert.deepEqual(
    keysOf(() =>
      loadTemporalConnection({ TEMPORAL_TLS_CLIENT_CERT_PATH: cert, TEMPORAL_TLS_CLIENT_CERT_DATA: CERT_PEM }),
    ),
    ['TEMPORAL_TLS_CLIENT_CERT_PATH'],
  );
  assert.deepEqual(
    keysOf(() => loadTemporalConnection({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'no.pem') })),
    ['TEMPORAL_TLS_SERVER_CA_CERT_PATH'],
  );
  assert.deepEqual(
    keysOf(() => loadTemporalConnection({ TEMPORAL_TLS_SERVER_CA_CERT_DATA: 'not pem' })),
    ['TEMPORAL_TLS_SERVER_CA_CERT_DATA'],
  );
  // mTLS with half a pair would quietly connect without the client certificate.
  assert.deepEqual(
    keysOf(() => loadTemporalConnection({ TEMPORAL_TLS_CLIENT_CERT_PATH: cert })),
    ['TEMPORAL_TLS_CLIENT_KEY_PATH'],
  );

  // From the file: the profile key and where it lives.
  const broken = writeToml(
    'broken.toml',
    `[profile.default]\naddress = "just-a-host"\n[profile.default.tls]\nclient_cert_path = "${path.join(dir, 'gone.pem')}"\nclient_key_path = "${key}"\n`,
  );
  const keys = keysOf(() => loadTemporalConnection({ TEMPORAL_CONFIG_FILE: broken }));
  assert.deepEqual(keys, [
    `address (profile "default" of ${broken})`,
    `tls.client_cert_path (profile "default" of ${broken})`,
  ]);
  // A typo in the file is reported rather than ignored.
  const typo = writeToml('typo.toml', '[profile.default]\naddress = "h:1"\napi-key = "k"\n');
  assert.throws(
    () => loadTemporalConnection({ TEMPORAL_CONFIG_FILE: typo }),
    (err) =>
      err instanceof ConfigError && err.problems[0]!.key === 'TEMPORAL_CONFIG_FILE' && /api-key/.test(err.message),
  );
  const notToml = writeToml('not.toml', 'address = = "h:1"\n');
  assert.deepEqual(
    keysOf(() => loadTemporalConnection({ TEMPORAL_CONFIG_FILE: notToml })),
    ['TEMPORAL_CONFIG_FILE'],
  );
});

test('loadTemporalConfig names every bad key at once', () => {
  assert.deepEqual(
    keysOf(() => loadTemporalConfig({ TEMPORAL_ADDRESS: '[::1]', TEMPORAL_UI_URL: 'nope' })),
    ['TEMPORAL_ADDRESS', 'TEMPORAL_UI_URL'],
  );
  const c = loadTemporalConfig({ TEMPORAL_ADDRESS: '[::1]:7233', ORCHESTRATOR_TASK_QUEUE: 'q' });
  assert.equal(c.address, '[::1]:7233');
  assert.equal(c.taskQueue, 'q');
  assert.equal(c.uiUrl, 'http://127.0.0.1:8233');
});

test('the missing-search-attributes message names them and the commands that add them', () => {
  const message = missingSearchAttributesMessage(
    'agents.a1b2c',
    [
      { name: 'AgentSpec', type: 'Keyword' },
      { name: 'AgentTokens', type: 'Int' },
    ],
    'the server refused to add them (Request unauthorized)',
  );
  assert.match(
    message,
    /namespace "agents\.a1b2c" lacks .*AgentSpec \(Keyword\), AgentTokens \(Int\); the server refused/,
  );
  assert.match(
    message,
    /tcld namespace search-attributes add --namespace agents\.a1b2c --sa "AgentSpec=Keyword" --sa "AgentTokens=Int"/,
  );
  assert.match(
    message,
    /temporal operator search-attribute create --namespace agents\.a1b2c --name AgentSpec --type Keyword --name AgentTokens --type Int/,
  );
});
