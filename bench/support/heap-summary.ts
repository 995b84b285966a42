/**
 * What holds a V8 heap snapshot's memory: its objects grouped by constructor (count, self size)
 * and by retained size (each object's share of the dominator tree, counted once per group: an
 * object dominated by another of its own group is inside that one's figure).
 *
 *   npx tsx bench/support/heap-summary.ts <file.heapsnapshot> [rows=25] ["Activator (object)"]
 *
 * Reads the file as bytes and picks the arrays out itself: JSON.parse cannot take a string of
 * a snapshot's size.
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  nodeFields: string[];
  nodeTypes: string[];
  edgeFields: string[];
  edgeTypes: string[];
  nodes: Float64Array;
  edges: Uint32Array;
  strings: string[];
}

function arrayStart(buf: Buffer, key: string, from = 0): number {
  const at = buf.indexOf(`"${key}":`, from);
  if (at < 0) throw new Error(`no "${key}" in the snapshot`);
  return buf.indexOf('[', at) + 1;
}

function readNumbers<T extends Float64Array | Uint32Array>(buf: Buffer, key: string, out: T): T {
  let i = arrayStart(buf, key);
  let n = 0;
  let value = 0;
  let inNumber = false;
  for (; ; i++) {
    const c = buf[i]!;
    if (c >= 48 && c <= 57) {
      value = value * 10 + (c - 48);
      inNumber = true;
    } else {
      if (inNumber) out[n++] = value;
      value = 0;
      inNumber = false;
      if (c === 93) break; // ]
    }
  }
  if (n !== out.length) throw new Error(`"${key}": read ${n} numbers, expected ${out.length}`);
  return out;
}

function readStrings(buf: Buffer): string[] {
  const strings: string[] = [];
  let i = arrayStart(buf, 'strings', buf.lastIndexOf('"strings":'));
  for (;;) {
    while (buf[i] !== 34 && buf[i] !== 93) i++; // to the next " or ]
    if (buf[i] === 93) return strings;
    let j = i + 1;
    while (buf[j] !== 34) j += buf[j] === 92 ? 2 : 1; // skip escapes
    strings.push(JSON.parse(buf.toString('utf8', i, j + 1)) as string);
    i = j + 1;
  }
}

export function readSnapshot(file: string): Snapshot {
  const buf = readFileSync(file);
  const headEnd = buf.indexOf('"nodes":');
  const head = JSON.parse(`${buf.toString('utf8', 0, headEnd).replace(/,\s*$/, '')}}`) as {
    snapshot: {
      meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] };
      node_count: number;
      edge_count: number;
    };
  };
  const { meta, node_count, edge_count } = head.snapshot;
  return {
    nodeFields: meta.node_fields,
    nodeTypes: meta.node_types[0],
    edgeFields: meta.edge_fields,
    edgeTypes: meta.edge_types[0],
    nodes: readNumbers(buf, 'nodes', new Float64Array(node_count * meta.node_fields.length)),
    edges: readNumbers(buf, 'edges', new Uint32Array(edge_count * meta.edge_fields.length)),
    strings: readStrings(buf),
  };
}

/** Immediate dominators (Cooper, Harvey, Kennedy), weak edges ignored; node 0 is the root. */
function dominators(s: Snapshot, firstEdge: Uint32Array): Int32Array {
  const nf = s.nodeFields.length;
  const ef = s.edgeFields.length;
  const count = s.nodes.length / nf;
  const weak = s.edgeTypes.indexOf('weak');
  const toField = s.edgeFields.indexOf('to_node');
  const typeField = s.edgeFields.indexOf('type');
  const targets = (node: number, visit: (to: number) => void) => {
    for (let e = firstEdge[node]!; e < firstEdge[node + 1]!; e += ef) {
      if (s.edges[e + typeField] !== weak) visit(s.edges[e + toField]! / nf);
    }
  };
  // Post-order by an explicit stack.
  const order = new Int32Array(count).fill(-1);
  const postOrder: number[] = [];
  const stack: number[] = [0];
  const edgeAt = new Uint32Array(count);
  const seen = new Uint8Array(count);
  seen[0] = 1;
  edgeAt[0] = firstEdge[0]!;
  while (stack.length) {
    const node = stack[stack.length - 1]!;
    let pushed = false;
    while (edgeAt[node]! < firstEdge[node + 1]!) {
      const e = edgeAt[node]!;
      edgeAt[node] = e + ef;
      if (s.edges[e + typeField] === weak) continue;
      const to = s.edges[e + toField]! / nf;
      if (!seen[to]) {
        seen[to] = 1;
        edgeAt[to] = firstEdge[to]!;
        stack.push(to);
        pushed = true;
        break;
      }
    }
    if (!pushed) {
      stack.pop();
      order[node] = postOrder.length;
      postOrder.push(node);
    }
  }
  // Predecessors of reachable nodes.
  const predCount = new Uint32Array(count + 1);
  for (let n = 0; n < count; n++) if (seen[n]) targets(n, (to) => predCount[to + 1]!++);
  for (let n = 0; n < count; n++) predCount[n + 1]! += predCount[n]!;
  const preds = new Uint32Array(predCount[count]!);
  const fill = predCount.slice(0, count);
  for (let n = 0; n < count; n++) if (seen[n]) targets(n, (to) => (preds[fill[to]!++] = n));

  const idom = new Int32Array(count).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number) => {
    while (a !== b) {
      while (order[a]! < order[b]!) a = idom[a]!;
      while (order[b]! < order[a]!) b = idom[b]!;
    }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (let k = postOrder.length - 2; k >= 0; k--) {
      const node = postOrder[k]!;
      let next = -1;
      for (let p = predCount[node]!; p < predCount[node + 1]!; p++) {
        const pred = preds[p]!;
        if (idom[pred] === -1) continue;
        next = next === -1 ? pred : intersect(pred, next);
      }
      if (next !== -1 && idom[node] !== next) {
        idom[node] = next;
        changed = true;
      }
    }
  }
  return idom;
}

export function summarise(file: string, rows = 25, inspect?: string): string {
  const s = readSnapshot(file);
  const nf = s.nodeFields.length;
  const count = s.nodes.length / nf;
  const [typeF, nameF, sizeF, edgesF] = ['type', 'name', 'self_size', 'edge_count'].map((f) => s.nodeFields.indexOf(f));
  const firstEdge = new Uint32Array(count + 1);
  for (let n = 0; n < count; n++) firstEdge[n + 1] = firstEdge[n]! + s.nodes[n * nf + edgesF!]! * s.edgeFields.length;

  const groupOf = (n: number) => {
    const type = s.nodeTypes[s.nodes[n * nf + typeF!]!] ?? '?';
    const name = s.strings[s.nodes[n * nf + nameF!]!] ?? '?';
    if (type === 'object' || type === 'native' || type === 'hidden') return `${name.slice(0, 60)} (${type})`;
    return `(${type})`;
  };
  const idom = dominators(s, firstEdge);
  const retained = new Float64Array(count);
  for (let n = 0; n < count; n++) retained[n] = s.nodes[n * nf + sizeF!]!;
  // Children before parents: a node's post-order index is below its dominator's; sort by depth instead.
  const depth = new Int32Array(count).fill(-1);
  depth[0] = 0;
  const depthOf = (n: number): number => {
    const path: number[] = [];
    let m = n;
    while (depth[m] === -1 && idom[m] !== -1) {
      path.push(m);
      m = idom[m]!;
    }
    let d = depth[m] === -1 ? 0 : depth[m]!;
    for (let k = path.length - 1; k >= 0; k--) depth[path[k]!] = ++d;
    return depth[n]!;
  };
  const reachable: number[] = [];
  for (let n = 1; n < count; n++) if (idom[n] !== -1 && depthOf(n) >= 0) reachable.push(n);
  reachable.sort((a, b) => depth[b]! - depth[a]!);
  for (const n of reachable) retained[idom[n]!]! += retained[n]!;

  const groups = new Int32Array(count);
  const groupNames: string[] = [];
  const groupIds = new Map<string, number>();
  const self: Array<{ count: number; bytes: number; retained: number }> = [];
  for (let n = 0; n < count; n++) {
    const g = groupOf(n);
    let id = groupIds.get(g);
    if (id === undefined) {
      id = groupNames.push(g) - 1;
      groupIds.set(g, id);
      self.push({ count: 0, bytes: 0, retained: 0 });
    }
    groups[n] = id;
    self[id]!.count++;
    self[id]!.bytes += s.nodes[n * nf + sizeF!]!;
  }
  // A group's retained size: its objects' subtrees in the dominator tree, each counted once
  // (an object below another of its group is inside that one's figure).
  const open = new Int32Array(groupNames.length);
  const children = new Uint32Array(count + 1);
  for (const n of reachable) children[idom[n]! + 1]!++;
  for (let n = 0; n < count; n++) children[n + 1]! += children[n]!;
  const childList = new Uint32Array(children[count]!);
  const at = children.slice(0, count);
  for (const n of reachable) childList[at[idom[n]!]!++] = n;
  const stack: number[] = [0];
  while (stack.length) {
    const top = stack.pop()!;
    if (top < 0) {
      open[groups[~top]!]!--;
      continue;
    }
    const g = groups[top]!;
    if (open[g] === 0) self[g]!.retained += retained[top]!;
    open[g]!++;
    stack.push(~top);
    for (let c = children[top]!; c < children[top + 1]!; c++) stack.push(childList[c]!);
  }

  // Webpack's module records ({ id, loaded, exports }) by id: what each bundled module keeps.
  const edgeName = (e: number) => s.strings[s.edges[e + s.edgeFields.indexOf('name_or_index')]!];
  const toNode = (e: number) => s.edges[e + s.edgeFields.indexOf('to_node')]! / nf;
  const modules = new Map<string, { count: number; retained: number }>();
  for (const n of reachable) {
    let id: string | undefined;
    let loaded = false;
    for (let e = firstEdge[n]!; e < firstEdge[n + 1]!; e += s.edgeFields.length) {
      const name = edgeName(e);
      if (name === 'id') id = s.strings[s.nodes[toNode(e) * nf + nameF!]!];
      else if (name === 'loaded') loaded = true;
    }
    if (id === undefined || !loaded || !id.startsWith('./')) continue;
    const m = modules.get(id) ?? { count: 0, retained: 0 };
    m.count++;
    m.retained += retained[n]!;
    modules.set(id, m);
  }

  const MiB = 2 ** 20;
  const total = retained[0]!;
  const inspected: string[] = [];
  if (inspect) {
    // What one object of the group keeps, by the edges to what it dominates (the largest object of the group).
    const members = reachable.filter((n) => groupNames[groups[n]!] === inspect);
    const biggest = members.sort((a, b) => retained[b]! - retained[a]!)[0];
    if (biggest !== undefined) {
      inspected.push('', `inside the largest ${inspect} (${(retained[biggest]! / MiB).toFixed(2)} MiB):`);
      const parts: Array<[string, number]> = [];
      for (let e = firstEdge[biggest]!; e < firstEdge[biggest + 1]!; e += s.edgeFields.length) {
        const to = toNode(e);
        if (idom[to] === biggest) parts.push([`${edgeName(e) ?? '#'} → ${groupNames[groups[to]!]}`, retained[to]!]);
      }
      for (const [name, bytes] of parts.sort((a, b) => b[1] - a[1]).slice(0, rows))
        inspected.push(`  ${(bytes / 2 ** 10).toFixed(0).padStart(8)} KiB  ${name}`);
    }
  }
  const lines = [`${file}: ${count} nodes, ${(total / MiB).toFixed(1)} MiB reachable`];
  const byGroup = self.map((e, i) => ({ ...e, name: groupNames[i]! }));
  lines.push('', 'by retained size (objects of a group inside another of it counted once):');
  for (const e of [...byGroup].sort((a, b) => b.retained - a.retained).slice(0, rows))
    lines.push(`  ${(e.retained / MiB).toFixed(1).padStart(8)} MiB  ${e.name}  ×${e.count}`);
  lines.push('', 'by self size:');
  for (const e of [...byGroup].sort((a, b) => b.bytes - a.bytes).slice(0, rows))
    lines.push(`  ${(e.bytes / MiB).toFixed(1).padStart(8)} MiB  ${e.name}  ×${e.count}`);
  if (modules.size) {
    lines.push('', 'bundled modules by retained size (webpack module records):');
    for (const [id, m] of [...modules].sort((a, b) => b[1].retained - a[1].retained).slice(0, rows))
      lines.push(`  ${(m.retained / MiB).toFixed(1).padStart(8)} MiB  ${id}  ×${m.count}`);
  }
  return [...lines, ...inspected].join('\n');
}

if (require.main === module) {
  const [file, rows, inspect] = process.argv.slice(2);
  if (!file) throw new Error('usage: heap-summary.ts <file.heapsnapshot> [rows] [group to look inside]');
  console.log(summarise(file, Number(rows ?? 25), inspect));
}
