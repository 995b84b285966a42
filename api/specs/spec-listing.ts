/** What GET /specs and the MCP server's list_specs and spec:// resources answer, read from the spec store. */
import type { SpecStore, StoredSpec } from './spec-store';
import type { ListSpecsResponse, StoredSpecView } from './spec-views';

export const storedSpecView = (stored: StoredSpec): StoredSpecView => ({
  name: stored.name,
  version: stored.version,
  registeredAt: stored.registeredAt,
  spec: stored.spec as unknown as Record<string, unknown>,
});

/** The latest version of every registered spec; a file that cannot be read is skipped (and logged by the store). */
export async function listSpecs(store: SpecStore): Promise<ListSpecsResponse> {
  const specs: ListSpecsResponse['specs'] = [];
  for (const name of await store.names()) {
    const latest = await store.get(name);
    if (!latest) continue;
    specs.push({
      name,
      version: latest.version,
      versions: await store.versions(name),
      ...(latest.spec.description !== undefined && { description: latest.spec.description }),
      registeredAt: latest.registeredAt,
    });
  }
  return { specs };
}
