/**
 * The pages' forms post `application/x-www-form-urlencoded`, which the API's JSON-only body
 * parser leaves unread: these routes read it themselves, bounded, so nothing else in the API
 * starts accepting forms.
 */
import { PayloadTooLargeException, UnsupportedMediaTypeException } from '@nestjs/common';

export const MAX_FORM_BYTES = 64 * 1024;

export interface BodyRequest extends AsyncIterable<unknown> {
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
  readableEnded?: boolean;
}

function mediaType(req: BodyRequest): string {
  const type = req.headers['content-type'];
  return (typeof type === 'string' ? type : '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * The fields of a form post (first value of each name); a JSON body (already parsed) as it is,
 * for the caller's schema to check; no body at all: undefined.
 */
export async function readForm(req: BodyRequest): Promise<unknown> {
  const type = mediaType(req);
  if (type === 'application/json') return req.body;
  if (type === '' && req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) {
    return undefined;
  }
  if (type !== 'application/x-www-form-urlencoded' && !(type === '' && req.headers['content-length'] === '0')) {
    throw new UnsupportedMediaTypeException(
      `send the form as application/x-www-form-urlencoded (or JSON), not ${type || 'an untyped body'}`,
    );
  }
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buf.length;
    if (size > MAX_FORM_BYTES) throw new PayloadTooLargeException(`the form is larger than ${MAX_FORM_BYTES} bytes`);
    chunks.push(buf);
  }
  const fields: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) {
    if (!(key in fields)) fields[key] = value;
  }
  return fields;
}
