/**
 * Every package the code imports is declared in package.json: production code from
 * `dependencies`, tests and benches from either list. A package that only arrives as another
 * package's dependency can disappear with that package's next release.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(__dirname, '../..');
const PRODUCTION = ['activities', 'api', 'config', 'temporal', 'workers', 'workflows'];
const DEV_ONLY = ['test', 'bench'];
const IMPORT_RE = /(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"]([^'".][^'"]*)['"]/gm;

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(ts|mts|mjs|js)$/.test(e.name))
    .map((e) => path.join(e.parentPath, e.name));
}

function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0] as string)) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function undeclared(dirs: string[], declared: Set<string>): string[] {
  const missing = new Set<string>();
  for (const file of dirs.flatMap(sourceFiles)) {
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT_RE)) {
      const pkg = packageOf(m[1] as string);
      if (pkg && !declared.has(pkg)) missing.add(`${pkg} (${path.relative(ROOT, file)})`);
    }
  }
  return [...missing].sort();
}

const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

test('production code imports only packages listed in dependencies', () => {
  assert.deepEqual(undeclared(PRODUCTION, new Set(Object.keys(manifest.dependencies))), []);
});

test('tests and benches import only declared packages', () => {
  const all = new Set([...Object.keys(manifest.dependencies), ...Object.keys(manifest.devDependencies)]);
  assert.deepEqual(undeclared(DEV_ONLY, all), []);
});
