/**
 * Server-rendered HTML without a template engine: every interpolated value goes through `html`'s
 * escaping unless it is itself a `SafeHtml` built here, so a prompt or comment can never become
 * markup. Pages carry no script; the one stylesheet is allowed by its hash in the CSP.
 */
import { createHash } from 'node:crypto';

export class SafeHtml {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

type Part = SafeHtml | string | number | null | undefined | false | readonly Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof SafeHtml) return part.text;
  if (Array.isArray(part)) return part.map(render).join('');
  return escapeHtml(String(part));
}

/** Tagged template: `html\`<p>${text}</p>\`` escapes `text`; nested html`` fragments and arrays of them pass as markup. */
export function html(strings: TemplateStringsArray, ...values: Part[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

const STYLE = `
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
header{display:flex;justify-content:space-between;align-items:center;border-bottom:1px solid #ddd;margin-bottom:1rem}
.flash{padding:.6rem 1rem;border-radius:4px;margin:1rem 0}
.flash.ok{background:#e6f4ea;border:1px solid #8bc79a}.flash.error{background:#fdecea;border:1px solid #e39a92}
article{border:1px solid #ddd;border-radius:6px;padding:1rem;margin:1rem 0}
article h2{font-size:1.05rem;margin:0 0 .5rem}
.meta{color:#555;font-size:.9rem}
.prompt{white-space:pre-wrap;background:#f6f6f6;padding:.6rem;border-radius:4px}
textarea{width:100%;min-height:3rem;box-sizing:border-box}
button{margin:.4rem .4rem 0 0;padding:.35rem .9rem}
input[type=password]{width:100%;box-sizing:border-box}
`.trim();

const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');
/** Built as a string: the CSP hash covers the element's exact text, which a formatter must not touch. */
const STYLE_ELEMENT = new SafeHtml(`<style>${STYLE}</style>`);

/** No scripts, no framing, forms post only here, the one inline stylesheet by hash. */
export const PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${STYLE_HASH}'`,
  "img-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export interface HeaderSettable {
  setHeader(name: string, value: string | string[]): unknown;
  getHeader?(name: string): unknown;
}

/**
 * Headers every page gets: CSP, no sniffing, no caching (pages hold tokens), no referrer to other
 * sites (a link's URL is a credential). `same-origin`, not `no-referrer`: under no-referrer a
 * browser sends `Origin: null` with the page's own form posts, which the origin checks refuse.
 */
export function setPageHeaders(res: HeaderSettable): void {
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Content-Security-Policy', PAGE_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'same-origin');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Frame-Options', 'DENY');
}

export function page(title: string, body: SafeHtml): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>${title}</title>
        ${STYLE_ELEMENT}
      </head>
      <body>
        ${body}
      </body>
    </html> `.text;
}
