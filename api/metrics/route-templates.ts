/**
 * The route a request matched, as its OpenAPI template (`/workflows/{id}`): the HTTP metrics'
 * `route` label, so a run's id never becomes a label value. Unknown paths share one value.
 */
export const UNMATCHED_ROUTE = '(unmatched)';

interface Template {
  path: string;
  pattern: RegExp;
  params: number;
}

function compile(path: string): Template {
  const parts = path.split(/(\{[^}]+\})/);
  const source = parts
    .map((part) => (/^\{[^}]+\}$/.test(part) ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return { path, pattern: new RegExp(`^${source}/?$`, 'i'), params: parts.filter((p) => p.startsWith('{')).length };
}

export class RouteTemplates {
  private readonly templates: Template[];

  constructor(paths: Iterable<string>) {
    // A literal path wins over a template that would also match it (/devices/metrics, /devices/{id}).
    this.templates = [...new Set(paths)].map(compile).sort((a, b) => a.params - b.params);
  }

  match(path: string): string {
    return this.templates.find((t) => t.pattern.test(path))?.path ?? UNMATCHED_ROUTE;
  }
}
