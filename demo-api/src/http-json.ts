/**
 * The JSON side of every route: the error a handler throws (`HttpError`), the answers it sends,
 * and the request body it reads. No state.
 */
import type http from 'node:http';

/** Largest request body accepted (413 beyond it). */
export const MAX_BODY_BYTES = 16 * 1024;
/** Past this many bytes an oversized body is no longer drained but the socket destroyed. */
const MAX_DRAIN_BYTES = 1024 * 1024;

/** A refusal a handler throws; the server answers it as `{error, error_description}` with `status`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(description);
  }
}

/** Answers `body` as JSON, never cached. `headOnly` sends the headers of that answer without its body. */
export function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
  headOnly = false,
): void {
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(payload.length),
    'Cache-Control': 'no-store',
    Pragma: 'no-cache',
  });
  res.end(headOnly ? undefined : payload);
}

/** Answers `status` without a body (204, preflights). */
export function sendEmpty(
  res: http.ServerResponse,
  status: number,
  headers: Readonly<Record<string, string>> = {},
): void {
  res.writeHead(status, { 'Cache-Control': 'no-store', ...headers });
  res.end();
}

/** Answers a refusal in the API's one error shape. */
export function sendError(res: http.ServerResponse, err: HttpError): void {
  sendJson(res, err.status, { error: err.error, error_description: err.description }, err.headers);
}

/** Reads a JSON object body, enforcing content type and size. Never hangs longer than the server's requestTimeout. */
export function readJsonObject(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const mediaType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (mediaType !== 'application/json') {
      reject(new HttpError(415, 'invalid_request', 'Content-Type must be application/json'));
      req.resume();
      return;
    }
    const tooLarge = new HttpError(413, 'invalid_request', `Request body exceeds ${MAX_BODY_BYTES} bytes`);
    let settled = false;
    let size = 0;
    const chunks: Buffer[] = [];
    const fail = (err: HttpError): void => {
      if (settled) return;
      settled = true;
      chunks.length = 0;
      reject(err);
    };
    // Keep draining after a 413 so the client can read the answer, but not forever.
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_DRAIN_BYTES) {
        fail(tooLarge);
        req.destroy();
        return;
      }
      if (settled) return;
      if (size > MAX_BODY_BYTES) {
        fail(tooLarge);
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => fail(new HttpError(400, 'invalid_request', 'Request body could not be read')));
    req.on('end', () => {
      if (settled) return;
      settled = true;
      try {
        resolve(parseJsonObject(Buffer.concat(chunks).toString('utf8')));
      } catch (err) {
        reject(err);
      }
    });
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) fail(tooLarge);
  });
}

/** `text` as a JSON object; a 400 `HttpError` for anything else. */
export function parseJsonObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'invalid_request', 'Request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'invalid_request', 'Request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/** The body's `field` as a non-empty string; a 400 `HttpError` otherwise. */
export function requireString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value.length === 0) {
    throw new HttpError(400, 'invalid_request', `Field "${field}" must be a non-empty string`);
  }
  return value;
}
