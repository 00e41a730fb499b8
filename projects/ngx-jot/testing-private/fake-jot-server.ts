/*
 * A test fake of the token server behind `HttpBackend`, shared by several tabs: login, refresh
 * with rotation and reuse detection (a spent refresh token revokes its whole family, as the demo
 * API does), logout. Responses come after `latencyMs` on timers (Jest fake timers drive them).
 * Not shipped.
 */
import {
  type HttpBackend,
  HttpErrorResponse,
  type HttpEvent,
  type HttpRequest,
  HttpResponse,
} from '@angular/common/http';
import { Observable } from 'rxjs';
import { fakeJwt } from './fake-jwt';

interface Issued {
  family: number;
  sub: string;
  spent: boolean;
}

export interface FakeServerCall {
  tab: string;
  method: string;
  url: string;
  body: unknown;
}

export class FakeJotServer {
  readonly calls: FakeServerCall[] = [];
  /** Refresh tokens presented again after they were spent (each one revoked a family). */
  reuse = 0;
  latencyMs = 50;
  /** Per-path latency, overriding `latencyMs`. */
  readonly latency = new Map<string, number>();
  /** Lifetime of issued access tokens, in seconds. */
  ttlSeconds = 60;
  /** Refreshes return the very same access token (FINDINGS: consecutive tokens can be byte-identical). */
  sameAccessToken = false;
  private readonly issued = new Map<string, Issued>();
  private readonly revoked = new Set<number>();
  private readonly lastAccess = new Map<number, string>();
  private families = 0;
  private serial = 0;

  /** An `HttpBackend` for one tab. */
  backend(tab: string): HttpBackend {
    return { handle: (req) => this.handle(req, tab) };
  }

  /** Calls to `path` (all tabs, or one). */
  callsTo(path: string, tab?: string): FakeServerCall[] {
    return this.calls.filter((c) => c.url === path && (tab === undefined || c.tab === tab));
  }

  /** A fresh pair of a new family, as a login would return it. */
  issue(sub = 'ada', name = 'Ada'): { access_token: string; refresh_token: string } {
    return this.pair(++this.families, sub, name);
  }

  /** The newest unspent refresh token of `family` (default: the latest family). */
  liveRefreshToken(family = this.families): string | undefined {
    return [...this.issued].reverse().find(([, i]) => i.family === family && !i.spent)?.[0];
  }

  /** Ends every session (an admin revoking them). */
  revokeAll(): void {
    for (let f = 1; f <= this.families; f++) this.revoked.add(f);
  }

  private handle(req: HttpRequest<unknown>, tab: string): Observable<HttpEvent<unknown>> {
    return new Observable<HttpEvent<unknown>>((subscriber) => {
      const timer = setTimeout(
        () => {
          const { status, body } = this.respond(req, tab);
          if (status >= 400) {
            subscriber.error(new HttpErrorResponse({ status, error: body, url: req.url, statusText: 'Unauthorized' }));
          } else {
            subscriber.next(new HttpResponse({ status, body, url: req.url }));
            subscriber.complete();
          }
        },
        this.latency.get(req.url) ?? this.latencyMs,
      );
      return () => clearTimeout(timer);
    });
  }

  private respond(req: HttpRequest<unknown>, tab: string): { status: number; body: unknown } {
    this.calls.push({ tab, method: req.method, url: req.url, body: req.body });
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (req.url === '/login') {
      const sub = typeof body['username'] === 'string' ? body['username'] : 'ada';
      return { status: 200, body: this.issue(sub, sub.charAt(0).toUpperCase() + sub.slice(1)) };
    }
    if (req.url === '/refresh') {
      const token = body['refresh_token'];
      const found = typeof token === 'string' ? this.issued.get(token) : undefined;
      if (!found || this.revoked.has(found.family)) return { status: 401, body: { error: 'invalid_grant' } };
      if (found.spent) {
        this.reuse++;
        this.revoked.add(found.family);
        return { status: 401, body: { error: 'refresh token reuse' } };
      }
      found.spent = true;
      return {
        status: 200,
        body: this.pair(found.family, found.sub, found.sub.charAt(0).toUpperCase() + found.sub.slice(1)),
      };
    }
    if (req.url === '/logout') {
      const found = typeof body['refresh_token'] === 'string' ? this.issued.get(body['refresh_token']) : undefined;
      if (found) this.revoked.add(found.family);
      return { status: 204, body: null };
    }
    return { status: 200, body: { ok: true } };
  }

  private pair(family: number, sub: string, name: string): { access_token: string; refresh_token: string } {
    const previous = this.lastAccess.get(family);
    const access =
      this.sameAccessToken && previous ? previous : fakeJwt({ sub, name }, { expiresInSeconds: this.ttlSeconds });
    this.lastAccess.set(family, access);
    const refresh = `rt-${family}-${++this.serial}`;
    this.issued.set(refresh, { family, sub, spent: false });
    return { access_token: access, refresh_token: refresh };
  }
}
