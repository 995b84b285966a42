import { REDACTED } from '../../config/json-logger';

/** Path segments that are credentials: a signed approval link is its token (`/approvals/links/<token>`). */
const SECRET_SEGMENT_AFTER = /(\/approvals\/links\/)[^/?#]+/;
/** Query parameters whose names say they carry a credential. */
const SECRET_PARAM = /token|secret|key|password|signature|^sig$|^code$|auth/i;

/** The request URL as a log line may show it: credentials in the path and query censored. */
export function redactUrl(url: string): string {
  const [pathPart = '', query] = splitOnce(url, '?');
  const path = pathPart.replace(SECRET_SEGMENT_AFTER, `$1${REDACTED}`);
  if (query === undefined) return path;
  const params = query.split('&').map((pair) => {
    const [name = '', value] = splitOnce(pair, '=');
    let decoded = name;
    try {
      decoded = decodeURIComponent(name);
    } catch {
      // A malformed name is tested as written.
    }
    return value !== undefined && SECRET_PARAM.test(decoded) ? `${name}=${REDACTED}` : pair;
  });
  return `${path}?${params.join('&')}`;
}

function splitOnce(text: string, sep: string): [string, string | undefined] {
  const at = text.indexOf(sep);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}
