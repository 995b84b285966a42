/**
 * 405 with an `Allow` header for a method a known path does not serve; OPTIONS on a known path
 * answers 204 with the same header. The routes come from the OpenAPI document, which Nest builds
 * from the controllers, so this table cannot miss one the document shows.
 */
import type { HttpErrorBody } from '../temporal/temporal-errors';

interface Request {
  method: string;
  path: string;
}
interface Response {
  status(code: number): Response;
  setHeader(name: string, value: string): void;
  json(body: unknown): void;
  end(): void;
}

interface Route {
  pattern: RegExp;
  methods: Set<string>;
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** `/workflows/{id}` → /^\/workflows\/[^/]+\/?$/i (express routes ignore case and a trailing slash). */
function routePattern(openApiPath: string): RegExp {
  const source = openApiPath
    .split(/(\{[^}]+\})/)
    .map((part) => (/^\{[^}]+\}$/.test(part) ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}/?$`, 'i');
}

export function routesOf(paths: Record<string, object>, extraGetPaths: string[] = []): Route[] {
  const routes = Object.entries(paths).map(([p, item]) => ({
    pattern: routePattern(p),
    methods: new Set(
      Object.keys(item)
        .filter((k) => HTTP_METHODS.includes(k))
        .map((m) => m.toUpperCase()),
    ),
  }));
  for (const p of extraGetPaths) routes.push({ pattern: routePattern(p), methods: new Set(['GET']) });
  for (const route of routes) if (route.methods.has('GET')) route.methods.add('HEAD');
  return routes;
}

/** Express middleware answering methods that known paths do not serve; anything else goes on. */
export function methodNotAllowed(routes: Route[]) {
  return (req: Request, res: Response, next: () => void): void => {
    const matching = routes.filter((r) => r.pattern.test(req.path));
    if (matching.length === 0) return next();
    const allowed = new Set(matching.flatMap((r) => [...r.methods]));
    if (allowed.has(req.method)) return next();
    const allow = [...allowed, 'OPTIONS'].sort().join(', ');
    res.setHeader('Allow', allow);
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    const body: HttpErrorBody = {
      statusCode: 405,
      error: 'Method Not Allowed',
      message: `${req.method} is not allowed on ${req.path}; allowed: ${allow}`,
    };
    res.status(405).json(body);
  };
}
