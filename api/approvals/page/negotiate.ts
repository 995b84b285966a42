/**
 * JSON or HTML for the routes that serve both: HTML only when the Accept header ranks text/html
 * above application/json (a browser's `text/html,...,*\/*;q=0.8`); a tie, `*\/*` or no header
 * is JSON, so curl and API clients get what the document promises first.
 */

function qualityOf(accept: string, type: string): number {
  const [major] = type.split('/');
  let best = -1;
  let bestSpecificity = -1;
  for (const range of accept.split(',')) {
    const [mediaRange = '', ...params] = range.split(';').map((s) => s.trim().toLowerCase());
    const specificity = mediaRange === type ? 2 : mediaRange === `${major}/*` ? 1 : mediaRange === '*/*' ? 0 : -1;
    if (specificity < 0 || specificity < bestSpecificity) continue;
    const q = params.find((p) => p.startsWith('q='));
    const quality = q === undefined ? 1 : Number(q.slice(2));
    bestSpecificity = specificity;
    best = Number.isFinite(quality) ? quality : 0;
  }
  return best;
}

export function prefersHtml(accept: string | string[] | undefined): boolean {
  const header = Array.isArray(accept) ? accept.join(',') : (accept ?? '');
  if (!header) return false;
  return qualityOf(header, 'text/html') > Math.max(qualityOf(header, 'application/json'), 0);
}
