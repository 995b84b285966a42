import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';

interface Answer {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: string;
}

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);
/** How long an answer is handed to late callers with the same (by then rotated) refresh token. */
const KEEP_MS = 60_000;

/**
 * A fetch for one session's transport in which refresh requests carrying the same refresh token
 * share one answer. Parallel tool calls that all meet a 401 each run the SDK's auth(); with
 * refresh-token rotation, every refresh but the first would be refused as a reused token, and
 * the SDK would then throw the fresh tokens away. Every other request passes through unchanged.
 */
export function sharingRefreshes(base: FetchLike = fetch): FetchLike {
  const answers = new Map<string, Promise<Answer>>();
  return async (url, init) => {
    const body = init?.body;
    const refreshToken =
      body instanceof URLSearchParams && body.get('grant_type') === 'refresh_token' ? body.get('refresh_token') : null;
    if (!refreshToken) return base(url, init);
    let answer = answers.get(refreshToken);
    if (!answer) {
      answer = base(url, init).then(async (res) => ({
        status: res.status,
        statusText: res.statusText,
        headers: [...res.headers],
        body: await res.text(),
      }));
      answers.set(refreshToken, answer);
      answer.then(
        () => setTimeout(() => answers.delete(refreshToken), KEEP_MS).unref(),
        () => answers.delete(refreshToken),
      );
    }
    const a = await answer;
    return new Response(NULL_BODY_STATUSES.has(a.status) ? null : a.body, {
      status: a.status,
      statusText: a.statusText,
      headers: a.headers,
    });
  };
}
