/** `mcpServers.fs.args[1]` from a path of keys and indices. */
export function formatKey(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out || '(root)';
}

export interface ConfigProblem {
  key: string;
  message: string;
}
