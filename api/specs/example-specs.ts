import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { LoggerService } from '@nestjs/common';
import { parse as parseYaml } from 'yaml';
import { validateSpec } from '../../workflows/spec/validate';
import type { SpecStore } from './spec-store';

const EXAMPLE_FILE = /\.spec\.(json|ya?ml)$/;

export interface ExampleRegistration {
  registered: Array<{ file: string; name: string; version: number; created: boolean }>;
  failed: Array<{ file: string; error: string }>;
}

function parseSpecFile(file: string, text: string): unknown {
  return file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
}

/**
 * Registers every `*.spec.json|yaml|yml` in `dir`, so the examples can be started by name. A bad
 * file is logged with its name and the wrong field, and skipped: it must not keep the API down.
 */
export async function registerExampleSpecs(
  store: SpecStore,
  dir: string,
  logger: LoggerService,
): Promise<ExampleRegistration> {
  const result: ExampleRegistration = { registered: [], failed: [] };
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => EXAMPLE_FILE.test(f)).sort();
  } catch (err) {
    logger.warn(`no example specs registered: cannot read ${dir} (${(err as Error).message})`, 'ExampleSpecs');
    return result;
  }
  for (const name of files) {
    const file = path.join(dir, name);
    const fail = (error: string) => {
      result.failed.push({ file, error });
      logger.error(`example spec ${file} not registered: ${error}`, undefined, 'ExampleSpecs');
    };
    let raw: unknown;
    try {
      raw = parseSpecFile(file, await readFile(file, 'utf8'));
    } catch (err) {
      fail(`cannot parse: ${(err as Error).message}`);
      continue;
    }
    const checked = validateSpec(raw);
    if (!checked.ok) {
      fail(checked.issues.map((i) => `${i.path}: ${i.message}`).join('; '));
      continue;
    }
    try {
      const { stored, created } = await store.save(checked.spec);
      result.registered.push({ file, name: stored.name, version: stored.version, created });
    } catch (err) {
      fail(`cannot store: ${(err as Error).message}`);
    }
  }
  return result;
}
