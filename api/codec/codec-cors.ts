/**
 * CORS for the codec routes only: the Web UI (another origin) calls them from the browser, with
 * the caller's bearer token. Only the UI's own origin (TEMPORAL_UI_URL) is allowed.
 */
export const CODEC_PATH = '/codec';

interface CorsRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
}
interface CorsResponse {
  setHeader(name: string, value: string): unknown;
  status(code: number): CorsResponse;
  end(): void;
}

export function codecCors(uiUrl: string) {
  // No Web UI URL (or not a URL): no cross-origin caller is allowed; the routes still answer.
  const allowedOrigin = URL.canParse(uiUrl) ? new URL(uiUrl).origin : undefined;
  return (req: CorsRequest, res: CorsResponse, next: () => void): void => {
    if (req.path !== CODEC_PATH && !req.path.startsWith(`${CODEC_PATH}/`)) return next();
    if (allowedOrigin !== undefined && req.headers.origin === allowedOrigin) {
      res.setHeader('Access-Control-Allow-Origin', allowedOrigin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Vary', 'Origin');
    }
    if (req.method !== 'OPTIONS') return next();
    // The preflight: answered here, before authentication (browsers send no token with it).
    res.setHeader('Access-Control-Allow-Methods', 'POST');
    res.setHeader('Access-Control-Allow-Headers', 'authorization, content-type, x-namespace');
    res.setHeader('Access-Control-Max-Age', '600');
    res.status(204).end();
  };
}
