/**
 * The imports point down, as the README's "Layout" draws it: api/ and workers/ → activities/,
 * workflows/, temporal/ → workflows/contracts/ and config/; and no module reaches itself through
 * others (type-only imports count: they tie the modules together as much for a reader). The lint
 * rules in eslint.config.mjs keep the direction file by file; this test checks the resolved graph.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '../..');
const FOLDERS = ['config', 'workflows', 'activities', 'temporal', 'api', 'workers', 'test', 'bench', 'examples'];

/** What each production layer may import besides itself. test/, bench/ and examples/ may import anything. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  config: [],
  contracts: [],
  workflows: ['contracts', 'config'],
  activities: ['contracts', 'config'],
  temporal: ['activities', 'workflows', 'contracts', 'config'],
  api: ['activities', 'workflows', 'temporal', 'contracts', 'config'],
  workers: ['activities', 'workflows', 'temporal', 'contracts', 'config'],
};

function layerOf(file: string): string | undefined {
  if (file.startsWith('workflows/contracts/')) return 'contracts';
  const top = file.split('/')[0] as string;
  return top in MAY_IMPORT ? top : undefined;
}

function tsFiles(): string[] {
  return FOLDERS.filter((dir) => existsSync(path.join(ROOT, dir))).flatMap((dir) =>
    readdirSync(path.join(ROOT, dir), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.parentPath.includes('node_modules'))
      .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)).split(path.sep).join('/')),
  );
}

/** Each file's project imports (static, type-only, dynamic and re-exports), resolved to files. */
function importGraph(): Map<string, string[]> {
  const files = tsFiles();
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(path.join(ROOT, file), 'utf8'), true, true);
    const targets: string[] = [];
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const base = path.posix.join(path.posix.dirname(file), fileName).replace(/\.js$/, '');
      const target = [`${base}.ts`, `${base}/index.ts`].find((f) => known.has(f));
      if (target) targets.push(target);
    }
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

const graph = importGraph();

test('the graph is the whole tree (the walk found the modules the lint rules cover)', () => {
  for (const file of ['workflows/contracts/run.ts', 'config/config-errors.ts', 'workers/orchestrator-worker.ts']) {
    assert.ok(graph.has(file), file);
  }
  assert.ok((graph.get('workflows/interpreter.ts') ?? []).includes('workflows/contracts/run.ts'));
});

test('imports point down: no arrow from a lower layer into a higher one', () => {
  const upward: string[] = [];
  for (const [from, targets] of graph) {
    const layer = layerOf(from);
    if (!layer) continue;
    for (const to of targets) {
      const target = layerOf(to);
      if (target && target !== layer && !MAY_IMPORT[layer]?.includes(target)) {
        upward.push(`${from} -> ${to} (${layer} may import ${MAY_IMPORT[layer]?.join(', ') || 'nothing else'})`);
      }
    }
  }
  assert.deepEqual(upward, []);
});

/** One cycle through each strongly connected component with more than one module (Tarjan). */
function cycles(g: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v) as number);
    stack.push(v);
    onStack.add(v);
    for (const w of g.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) components.push(component);
    }
  };
  for (const v of g.keys()) if (!index.has(v)) visit(v);
  return components.map((component) => chainWithin(g, new Set(component), [...component].sort()[0] as string));
}

/** A shortest path from `start` back to itself inside one component: the chain to print. */
function chainWithin(g: Map<string, string[]>, inside: Set<string>, start: string): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift() as string;
    for (const w of g.get(v) ?? []) {
      if (!inside.has(w) || previous.has(w)) continue;
      previous.set(w, v);
      if (w === start) {
        const chain: string[] = [];
        for (let at = v; at !== start; at = previous.get(at) as string) chain.unshift(at);
        return [start, ...chain, start];
      }
      queue.push(w);
    }
  }
  return [start];
}

test('no import cycles, type-only imports included', () => {
  assert.deepEqual(
    cycles(graph).map((chain) => chain.join(' -> ')),
    [],
  );
});

test('the cycle finder prints the chain it found', () => {
  const g = new Map([
    ['a.ts', ['b.ts']],
    ['b.ts', ['c.ts']],
    ['c.ts', ['a.ts', 'd.ts']],
    ['d.ts', []],
  ]);
  assert.deepEqual(cycles(g), [['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
});
