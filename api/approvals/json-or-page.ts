import { schemaRef, type ComponentName } from '../openapi/components';

/** OpenAPI content of a route that answers JSON, or a page when Accept ranks text/html first. */
export function jsonOrPage(component: ComponentName, page: string) {
  return {
    'application/json': { schema: schemaRef(component) },
    'text/html': { schema: { type: 'string' as const, description: `${page} (for browsers)` } },
  };
}
