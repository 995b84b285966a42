/**
 * Headless Chromium for the browser tests: Debian's `chromium` package (playwright-core drives it
 * through `executablePath`; Playwright's own browser download cannot be used here). Installed with
 * apt-get when missing and this process is root; otherwise fails saying how to install it. The
 * test runner calls this before the tests start and hands the path over in CHROMIUM_PATH. Run
 * directly (`npx tsx test/setup/ensure-chromium.ts`) it prints the executable's path.
 */
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

const CANDIDATES = ['chromium', 'chromium-browser'];
const INSTALL_HINT = 'apt-get update && apt-get install -y chromium';

export interface EnsureChromiumOptions {
  /** Progress lines; defaults to stderr. */
  log?: (line: string) => void;
}

export async function ensureChromium(opts: EnsureChromiumOptions = {}): Promise<string> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`[chromium] ${line}\n`));

  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!(await chromiumVersion(fromEnv)))
      throw new Error(`CHROMIUM_PATH=${fromEnv} does not run \`--version\`; unset it or point it at a Chromium binary`);
    return fromEnv;
  }
  const found = await findChromium();
  if (found) return found;

  if (process.getuid?.() !== 0)
    throw new Error(`the browser tests need Debian's chromium, which is not installed; as root run: ${INSTALL_HINT}`);
  const started = Date.now();
  log(`chromium not found; installing it with apt-get (once per machine) ...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Other processes may hold the dpkg lock for a while (another install); wait rather than fail.
  const lockWait = ['-o', 'DPkg::Lock::Timeout=300'];
  try {
    await run('apt-get', [...lockWait, 'update'], env, log);
    await run('apt-get', [...lockWait, 'install', '-y', 'chromium'], env, log);
  } catch (err) {
    throw new Error(
      `could not install chromium with apt-get: ${(err as Error).message} (see the apt-get output above)`,
    );
  }
  const installed = await findChromium();
  if (!installed) throw new Error('apt-get installed chromium, yet no `chromium` runs; check the apt-get output above');
  log(`chromium ready in ${Math.round((Date.now() - started) / 1000)} s: ${installed}`);
  return installed;
}

async function findChromium(): Promise<string | undefined> {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter((d) => path.isAbsolute(d));
  for (const name of CANDIDATES) {
    for (const dir of dirs) {
      const file = path.join(dir, name);
      if (await chromiumVersion(file)) return file;
    }
  }
  return undefined;
}

/** `chromium --version` prints e.g. "Chromium 140.0.7339.185 built on Debian ..."; undefined when it does not run. */
function chromiumVersion(file: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(file, ['--version'], { timeout: 30_000 }, (err, stdout) =>
      resolve(err || !/chrom/i.test(stdout) ? undefined : stdout.trim()),
    );
  });
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) {
      readline.createInterface({ input: stream }).on('line', (line) => log(`${cmd}: ${line}`));
    }
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${signal ?? `code ${code}`}`));
    });
  });
}

if (require.main === module) {
  ensureChromium().then(
    (file) => console.log(file),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
