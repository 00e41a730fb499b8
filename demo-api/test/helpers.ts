/** Shared helpers for the demo-api tests (not a test file itself). */
import http from 'node:http';
import { after, before } from 'node:test';
import { createDemoApi, type DemoApi, type DemoApiOptions } from '../src/server.ts';

export const SECRET = 'test-secret-test-secret-test-secret-0123456789';

/** A settable clock, so expiry can be tested without sleeping. */
export class FakeClock {
  constructor(public ms = Date.UTC(2030, 0, 1)) {}
  readonly now = (): number => this.ms;
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

export interface Harness {
  api: DemoApi;
  url: string;
  port: number;
}

/** Starts a server on port 0 before the file's tests and closes it after them. */
export function useServer(overrides: Partial<DemoApiOptions> = {}): Harness {
  const harness = {} as Harness;
  before(async () => {
    harness.api = createDemoApi({
      accessTtlSeconds: 30,
      refreshTtlSeconds: 3600,
      secret: SECRET,
      corsOrigins: ['http://allowed.test'],
      ...overrides,
    });
    const { url, port } = await harness.api.listen(0);
    harness.url = url;
    harness.port = port;
  });
  after(() => harness.api.close());
  return harness;
}

export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
}

export async function login(base: string, username = 'john.doe', password = 'foobar'): Promise<TokenPair> {
  const res = await postJson(`${base}/authenticate`, { username, password });
  if (res.status !== 200) throw new Error(`login failed: ${res.status}`);
  return (await res.json()) as TokenPair;
}

export function decodePayload(jwt: string): Record<string, unknown> {
  const part = jwt.split('.')[1];
  if (part === undefined) throw new Error('not a JWT');
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Sends a request with an exact, un-normalized request target (fetch would normalize `..`). */
export function rawRequest(
  port: number,
  method: string,
  target: string,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: target, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** Asserts the standard `{error, error_description}` JSON error shape and returns it. */
export async function errorBody(res: Response): Promise<{ error: string; error_description: string }> {
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith('application/json')) throw new Error(`expected JSON error, got ${type}`);
  const body = (await res.json()) as { error?: unknown; error_description?: unknown };
  if (typeof body.error !== 'string' || typeof body.error_description !== 'string') {
    throw new Error(`bad error body: ${JSON.stringify(body)}`);
  }
  return { error: body.error, error_description: body.error_description };
}
