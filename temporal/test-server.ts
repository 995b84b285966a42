/**
 * Temporal's time-skipping test server, for tests of waits that last days. The TS SDK would
 * download a native build of it from GitHub; we run the Java build from Maven Central instead.
 * Once per machine, Maven resolves its classpath (temporal/test-server/pom.xml), one start-up is
 * recorded into a class-data-sharing archive (a cold JVM needs ~4 s on a busy machine, close to
 * the SDK's 5 s start-up window; with the archive it is under 1 s), and a wrapper script is written
 * under ~/.cache/durable-agents/java-test-server/. Its path is what
 * `TestWorkflowEnvironment.createTimeSkipping` takes as an `existing-path` executable.
 * TEMPORAL_TEST_SERVER_PATH overrides it (the test runner sets it after one call up front). Run
 * directly (`npx tsx temporal/test-server.ts`) it prints the wrapper's path.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants as fsConstants, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { freePort } from './dev-server';

export const TEST_SERVER_POM = path.join(__dirname, 'test-server', 'pom.xml');
/** In the temporal-test-server artifact; args: `<port> [--enable-time-skipping]`. */
const MAIN_CLASS = 'io.temporal.testserver.TestServer';
const WRAPPER = 'temporal-test-server';
const CLASSPATH_FILE = 'classpath.txt';
const ARCHIVE = 'classes.jsa';
/** Fast start, small heap: a test server holds a few workflows. */
const JVM_FLAGS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xlog:cds=off', '-Xlog:cds+dynamic=off'];

export interface EnsureTestServerOptions {
  /** Progress lines; defaults to stderr. */
  log?: (line: string) => void;
}

export function testServerCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const cacheHome = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cacheHome, 'durable-agents', 'java-test-server');
}

/** The wrapper script's path; sets it up first when this machine has none for the current pom. */
export async function ensureJavaTestServer(opts: EnsureTestServerOptions = {}): Promise<string> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`[test-server] ${line}\n`));
  const fromEnv = process.env.TEMPORAL_TEST_SERVER_PATH;
  if (fromEnv) {
    await fs.access(fromEnv, fsConstants.X_OK).catch(() => {
      throw new Error(`TEMPORAL_TEST_SERVER_PATH=${fromEnv} is not executable; unset it or point it at a test server`);
    });
    return fromEnv;
  }
  const pom = readFileSync(TEST_SERVER_POM);
  // A changed pom (another version) gets a directory of its own.
  const dir = path.join(testServerCacheDir(), createHash('sha256').update(pom).digest('hex').slice(0, 12));
  const wrapper = path.join(dir, WRAPPER);
  if (await isUsable(dir)) return wrapper;

  const java = await findJava();
  const parent = path.dirname(dir);
  await fs.mkdir(parent, { recursive: true });
  // Set up beside the target and renamed into place: a killed set-up never leaves half a directory.
  const tmp = await fs.mkdtemp(path.join(parent, '.setup-'));
  const started = Date.now();
  try {
    log(`setting up Temporal's Java test server in ${dir} (once per machine; later runs reuse it) ...`);
    const classpath = await resolveClasspath(path.join(tmp, CLASSPATH_FILE), log, started);
    log('recording a class-data-sharing archive so the server starts within the SDK’s 5 s window ...');
    await recordArchive(java, classpath, path.join(tmp, ARCHIVE));
    await fs.writeFile(path.join(tmp, WRAPPER), wrapperScript(java, classpath, path.join(dir, ARCHIVE)), {
      mode: 0o755,
    });
    // Another process may have finished first; its directory serves as well.
    if (!(await isUsable(dir))) {
      await fs.rm(dir, { recursive: true, force: true });
      await fs.rename(tmp, dir);
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
  log(`test server ready in ${Math.round((Date.now() - started) / 1000)} s: ${wrapper}`);
  return wrapper;
}

/** Complete, and nothing it points at has gone (a cleaned ~/.m2, another JDK). */
async function isUsable(dir: string): Promise<boolean> {
  try {
    await fs.access(path.join(dir, WRAPPER), fsConstants.X_OK);
    const classpath = await fs.readFile(path.join(dir, CLASSPATH_FILE), 'utf8');
    const script = await fs.readFile(path.join(dir, WRAPPER), 'utf8');
    const java = /^exec '([^']+)'/m.exec(script)?.[1];
    if (!java) return false;
    await Promise.all([java, ...classpath.trim().split(path.delimiter)].map((f) => fs.access(f)));
    return true;
  } catch {
    return false;
  }
}

/** An absolute path: the class-data archive only fits the JVM that recorded it. */
async function findJava(): Promise<string> {
  const candidates = [
    ...(process.env.JAVA_HOME ? [path.join(process.env.JAVA_HOME, 'bin', 'java')] : []),
    ...(process.env.PATH ?? '')
      .split(path.delimiter)
      .filter((d) => path.isAbsolute(d))
      .map((d) => path.join(d, 'java')),
  ];
  for (const candidate of candidates) {
    try {
      await fs.access(candidate, fsConstants.X_OK);
      return await fs.realpath(candidate);
    } catch {
      // Not here; try the next.
    }
  }
  throw new Error(
    "Temporal's Java test server needs Java 11 or newer and Maven (Debian: apt-get install -y openjdk-17-jre-headless maven); " +
      'no `java` found on PATH or in JAVA_HOME',
  );
}

async function resolveClasspath(outputFile: string, log: (line: string) => void, started: number): Promise<string> {
  log('resolving io.temporal:temporal-test-server and its dependencies from Maven Central with mvn ...');
  const args = ['-q', '-B', '-f', TEST_SERVER_POM, 'dependency:build-classpath', `-Dmdep.outputFile=${outputFile}`];
  await run('mvn', args, log, started).catch((err: NodeJS.ErrnoException) => {
    throw new Error(
      err.code === 'ENOENT'
        ? "Temporal's Java test server is resolved with Maven, which is not installed (Debian: apt-get install -y maven)"
        : `mvn could not resolve the test server's classpath: ${err.message} (see the mvn output above)`,
    );
  });
  const classpath = (await fs.readFile(outputFile, 'utf8')).trim();
  if (!classpath.includes('temporal-test-server') || classpath.includes("'"))
    throw new Error(`unexpected classpath from mvn in ${outputFile}: ${classpath.slice(0, 200)}`);
  return classpath;
}

/** One start that answers a few calls, then a clean stop: the JVM writes what it loaded on exit. */
async function recordArchive(java: string, classpath: string, archive: string): Promise<void> {
  const port = await freePort();
  const args = [`-XX:ArchiveClassesAtExit=${archive}`, ...JVM_FLAGS, '-cp', classpath, MAIN_CLASS, String(port)];
  const child = spawn(java, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr: string[] = [];
  readline.createInterface({ input: child.stderr }).on('line', (line) => stderr.push(line));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  try {
    await answersCalls(`127.0.0.1:${port}`, child, stderr);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  await fs.access(archive).catch(() => {
    throw new Error(`java wrote no class-data archive to ${archive}:\n${stderr.join('\n')}`);
  });
}

async function answersCalls(address: string, child: ChildProcess, stderr: string[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`the Java test server exited (${child.exitCode}):\n${stderr.join('\n')}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2_000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`the Java test server did not answer on ${address} within 60 s: ${(err as Error).message}`);
      await sleep(200);
    }
  }
}

function wrapperScript(java: string, classpath: string, archive: string): string {
  return [
    '#!/bin/sh',
    "# Temporal's Java test server, written by temporal/test-server.ts. Args: <port> [--enable-time-skipping]",
    '# exec: the SDK stops the server by killing this process, so it must be the JVM itself.',
    `exec '${java}' -XX:SharedArchiveFile='${archive}' ${JVM_FLAGS.join(' ')} -cp '${classpath}' ${MAIN_CLASS} "$@"`,
    '',
  ].join('\n');
}

function run(cmd: string, args: string[], log: (line: string) => void, started: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) {
      readline.createInterface({ input: stream }).on('line', (line) => {
        // mvn colours even with -B; strip the escapes and the blank lines they leave.
        const text = line.replace(/\x1b\[[0-9;]*m/g, '').trim();
        if (text) log(`${cmd}: ${text}`);
      });
    }
    // -q keeps mvn silent while it downloads; say that it is still alive.
    const heartbeat = setInterval(
      () => log(`still resolving ... ${Math.round((Date.now() - started) / 1000)} s`),
      20_000,
    );
    child.on('error', (err) => {
      clearInterval(heartbeat);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearInterval(heartbeat);
      if (code === 0) resolve();
      else reject(new Error(`${cmd} exited with ${signal ?? `code ${code}`}`));
    });
  });
}

if (require.main === module) {
  ensureJavaTestServer().then(
    (wrapper) => console.log(wrapper),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
