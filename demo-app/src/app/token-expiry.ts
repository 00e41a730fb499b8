import { HttpClient, type HttpInterceptorFn } from '@angular/common/http';
import { DestroyRef, Injectable, inject, signal } from '@angular/core';
import { JotAuth } from 'ngx-jot';
import { type Observable, map, of } from 'rxjs';

import { Activity } from './activity';
import { DEMO_CONFIG, shortUrl } from './demo-config';

/**
 * "Expire the token now", so the next requests meet a 401 without waiting for `exp` (which the
 * proactive refresh never lets happen). With `expireUrl` (the reference API's
 * `POST /api/expire-token`) the API itself revokes the token. Any other JWT API gets, in place of
 * that token, a copy with a broken signature (`sendBrokenCopy`), which it refuses just the same.
 * Either way ngx-jot still holds a token it believes valid: exactly the case of a token revoked
 * on the server.
 */
@Injectable({ providedIn: 'root' })
export class TokenExpiry {
  private readonly auth = inject(JotAuth);
  private readonly http = inject(HttpClient);
  private readonly activity = inject(Activity);
  private readonly config = inject(DEMO_CONFIG);
  private readonly brokenFor = signal<string | null>(null);

  /** How this run expires the token, in plain words. */
  readonly how = this.config.expireUrl
    ? `POST ${shortUrl(this.config.expireUrl)}: the API revokes the current access token.`
    : 'The demo sends a copy of the current token with a broken signature, which the API refuses.';

  constructor() {
    // A refreshed token is never broken, even if the API happened to issue the same bytes again.
    const subscription = this.auth.events.subscribe((event) => {
      if (event.type === 'refresh-success' || event.type === 'logout') this.brokenFor.set(null);
    });
    inject(DestroyRef).onDestroy(() => subscription.unsubscribe());
  }

  /** The token whose requests carry a broken copy, while it is the one held. */
  brokenToken(): string | null {
    const token = this.brokenFor();
    return token !== null && token === this.auth.token() ? token : null;
  }

  /** Makes the API refuse the current access token; completes when it does. */
  expireNow(): Observable<void> {
    const token = this.auth.token();
    if (this.config.expireUrl) return this.http.post(this.config.expireUrl, {}).pipe(map(() => undefined));
    this.brokenFor.set(token);
    this.activity.note('the API now gets a copy of this token with a broken signature');
    return of(undefined);
  }
}

/** The same JWT with its signature's first character changed: well formed, and never valid. */
export function breakSignature(jwt: string): string {
  const [header, payload, signature = ''] = jwt.split('.');
  const first = signature.charAt(0) === 'A' ? 'B' : 'A';
  return `${header}.${payload}.${first}${signature.slice(1)}`;
}

/** Innermost interceptor: sends the broken copy in place of a token `TokenExpiry` expired. */
export const sendBrokenCopy: HttpInterceptorFn = (req, next) => {
  const broken = inject(TokenExpiry).brokenToken();
  const header = req.headers.get('Authorization');
  if (broken === null || header === null || !header.endsWith(broken)) return next(req);
  return next(req.clone({ setHeaders: { Authorization: header.slice(0, -broken.length) + breakSignature(broken) } }));
};
