/*
 * withDpop(): sender-constrained tokens (RFC 9449). Every request jotInterceptor sends passes
 * through DpopSender.send() (the JOT_DPOP hook): the login and refresh calls get a proof, so the
 * server can bind the tokens it issues to this browser's key; a request carrying a token the server
 * bound gets `Authorization: DPoP <token>` and a proof with `ath`. A token stolen from storage or
 * a log is then useless elsewhere: the private key signing the proofs can be used by the page but
 * never read. Tokens the server issued as `Bearer` are sent as before.
 */
import { DOCUMENT, isPlatformBrowser } from '@angular/common';
import {
  HttpErrorResponse,
  HttpEventType,
  type HttpEvent,
  type HttpHandlerFn,
  type HttpHeaders,
  type HttpRequest,
} from '@angular/common/http';
import { PLATFORM_ID, inject, provideEnvironmentInitializer } from '@angular/core';
import { type Observable, catchError, filter, from, map, switchMap, throwError } from 'rxjs';

import { JOT_SKIP } from './context';
import { DpopKeyring, type StoredDpopKey } from './dpop-key-store';
import { athOf, createProof, htuOf } from './dpop-proof';
import { JOT_CONFIG, type JotTokens } from './config';
import { JotError, warnOnce } from './errors';
import { JotFeatureKind, makeJotFeature, type JotFeature } from './feature';
import { JOT_DPOP, type JotDpop, type JotHost } from './feature-contracts';
import { JOT_ORIGIN_POLICY } from './origin-policy';
import { SessionState } from './session-state';

/** Options of `withDpop()`. */
export interface JotDpopOptions {
  /**
   * Where WebCrypto or IndexedDB is missing (an insecure context: plain http other than
   * localhost; some private modes): `'refuse'` (default) fails the login and refresh calls with a
   * `JotError` `'dpop-unavailable'`; `'bearer'` sends them without a proof, so a server that does
   * not require DPoP issues Bearer tokens. Development builds say so at start-up.
   */
  fallback?: 'refuse' | 'bearer';
  /**
   * A new key for each session: made at login, deleted at logout (default true). `false` keeps
   * one key for the origin across sessions.
   */
  keyPerSession?: boolean;
}

/**
 * Turns on DPoP (RFC 9449): proofs signed by a non-extractable ES256 key kept in IndexedDB, so a
 * token the server bound to that key cannot be used from anywhere else. Browser only.
 *
 * @usageNotes
 * ```ts
 * provideJot({ loginUrl: '/authenticate' }, withRefresh({ url: '/refresh' }), withDpop())
 * ```
 */
export function withDpop(options: JotDpopOptions = {}): JotFeature<JotFeatureKind.Dpop> {
  return makeJotFeature(JotFeatureKind.Dpop, [
    { provide: JOT_DPOP, useFactory: () => createDpopHook(options) },
    // Made at start-up, not at the first request: a logout before any request (a session restored
    // from storage) still forgets the key, and development builds say what is missing before a login.
    provideEnvironmentInitializer(() => inject(JOT_DPOP)),
  ]);
}

/** One sender per `provideJot()`; none on the server, as the cross-tab sync (no key there). */
function createDpopHook(options: JotDpopOptions): JotDpop | null {
  if (!isPlatformBrowser(inject(PLATFORM_ID))) return null;
  const sender = new DpopSender(options, inject(SessionState));
  return (host, next) => (req) => sender.send(host, req, next);
}

/** The response header carrying the server's nonce, and the error asking for it. */
const NONCE_HEADER = 'DPoP-Nonce';
const NONCE_ERROR = 'use_dpop_nonce';

/** Adds proofs to the requests the interceptor sends; one per `provideJot()`, in the browser. */
export class DpopSender {
  readonly #options: JotDpopOptions;
  readonly #config = inject(JOT_CONFIG);
  readonly #policy = inject(JOT_ORIGIN_POLICY);
  readonly #document = inject(DOCUMENT);
  readonly #supported = typeof crypto !== 'undefined' && 'subtle' in crypto && typeof indexedDB !== 'undefined';
  readonly #keyring: DpopKeyring;
  /** The access token of this tab's session as last seen: whose key a logout forgets. */
  #sessionToken: string | undefined;
  /** The latest `DPoP-Nonce` of each origin. */
  readonly #nonces = new Map<string, string>();

  constructor(options: JotDpopOptions, host: JotHost) {
    this.#options = options;
    this.#keyring = new DpopKeyring(options.keyPerSession === false);
    if (ngDevMode && !this.#supported) reportUnsupported(this.#config, options);
    // The tab that ends the session forgets its key; the other tabs were told (with
    // withCrossTabSync() they shared it). Another session's key, in another tab, stays.
    host.events.subscribe((event) => {
      if (event.type === 'login') this.#sessionToken = host.session()?.accessToken;
      if (event.type === 'logout' && event.reason !== 'other-tab' && options.keyPerSession !== false)
        this.#keyring.forget(this.#sessionToken);
    });
  }

  /** Sends `req` through `next`, with a proof where one belongs. */
  send(host: JotHost, req: HttpRequest<unknown>, next: HttpHandlerFn): Observable<HttpEvent<unknown>> {
    const endpoint = this.#isTokenEndpoint(req, host);
    if (!endpoint && !this.#carriesToken(req)) return next(req);
    if (!this.#supported) {
      return endpoint && this.#options.fallback !== 'bearer'
        ? throwError(() => new JotError('dpop-unavailable', ngDevMode ? unsupportedMessage() : ''))
        : next(req);
    }
    const session = host.session();
    if (session) this.#sessionToken = session.accessToken;
    const renew = endpoint && req.url === this.#config.loginUrl && this.#options.keyPerSession !== false;
    const key = renew ? this.#keyring.renew(session) : this.#keyring.current(session, session?.accessToken, endpoint);
    return from(key).pipe(
      switchMap((held) => (held ? this.#attempt(req, next, { key: held, endpoint, skew: session?.skew }) : next(req))),
    );
  }

  /** ngx-jot's own login or refresh call. */
  #isTokenEndpoint(req: HttpRequest<unknown>, host: JotHost): boolean {
    return (
      req.method === 'POST' &&
      req.context.get(JOT_SKIP) &&
      (req.url === this.#config.loginUrl || req.url === host.refresher?.url)
    );
  }

  /** A request the interceptor put the session's credential on (an allowed origin). */
  #carriesToken(req: HttpRequest<unknown>): boolean {
    const { headerName, scheme } = this.#config;
    return (
      !!scheme &&
      !req.context.get(JOT_SKIP) &&
      !!req.headers.get(headerName)?.startsWith(`${scheme} `) &&
      this.#policy.allowsOrigin(req.url)
    );
  }

  /** One try with a fresh proof; a `use_dpop_nonce` answer is retried once with the nonce it brings. */
  #attempt(
    req: HttpRequest<unknown>,
    next: HttpHandlerFn,
    signing: ProofContext,
    retried = false,
  ): Observable<HttpEvent<unknown>> {
    const sent = from(this.#withProof(req, signing)).pipe(
      switchMap((proven) => next(proven)),
      // A token answer goes on once IndexedDB knows its token is bound: the other tabs adopt it
      // when this tab does, and must send it as DPoP too. (An array is an ObservableInput of its items.)
      switchMap((event) => {
        const noted = event.type === HttpEventType.Response && this.#learn(req, event.headers, signing, event.body);
        return noted ? from(noted).pipe(map(() => event)) : [event];
      }),
      catchError((error: unknown) => {
        if (error instanceof HttpErrorResponse) void this.#learn(req, error.headers);
        return !retried && isNonceChallenge(error) ? this.#attempt(req, next, signing, true) : throwError(() => error);
      }),
    );
    // The caller saw the first try's `Sent`: of a retry it sees only the response.
    return retried ? sent.pipe(filter((event) => event.type === HttpEventType.Response)) : sent;
  }

  /** `req` with a proof; an API request only when its token is bound to the key (else as it is). */
  async #withProof(req: HttpRequest<unknown>, { key, endpoint, skew }: ProofContext): Promise<HttpRequest<unknown>> {
    const { headerName, scheme } = this.#config;
    const token = endpoint ? null : (req.headers.get(headerName) ?? '').slice(scheme.length + 1);
    const ath = token === null ? undefined : await athOf(token);
    if (token !== null && !this.#keyring.isBound(token, ath ?? '', key)) return req;
    const htu = htuOf(req.url, this.#document.baseURI);
    const nonce = this.#nonces.get(new URL(htu).origin);
    const proof = await createProof(key, { htm: req.method, htu, ...(ath && { ath }), ...(nonce && { nonce }) }, skew);
    return req.clone({ setHeaders: token === null ? { DPoP: proof } : { DPoP: proof, [headerName]: `DPoP ${token}` } });
  }

  /**
   * Remembers the origin's nonce, and for a token answer whether its token is DPoP-bound (then
   * resolves once that is stored).
   */
  #learn(
    req: HttpRequest<unknown>,
    headers: HttpHeaders,
    signing?: ProofContext,
    body?: unknown,
  ): Promise<void> | undefined {
    const nonce = headers.get(NONCE_HEADER);
    if (nonce) this.#nonces.set(new URL(htuOf(req.url, this.#document.baseURI)).origin, nonce);
    const issued = signing?.endpoint ? issuedTokenOf(body, this.#config.readTokens) : undefined;
    return issued && signing ? this.#keyring.noteIssued(issued.token, signing.key, issued.bound) : undefined;
  }
}

/** What signs a request's proofs: the key, whether it is a token call, the server's clock offset. */
interface ProofContext {
  key: StoredDpopKey;
  endpoint: boolean;
  skew: number | undefined;
}

/** The access token of a token answer, and whether it says `token_type: DPoP`; else undefined. */
function issuedTokenOf(
  body: unknown,
  readTokens: (body: unknown) => JotTokens | null | undefined,
): { token: string; bound: boolean } | undefined {
  const type = (body as { token_type?: unknown } | null | undefined)?.token_type;
  try {
    const token = readTokens(body)?.accessToken;
    return token ? { token, bound: typeof type === 'string' && type.toLowerCase() === 'dpop' } : undefined;
  } catch {
    return undefined; // The session refuses the answer too.
  }
}

/** Development only, at start-up: what is missing, and what to choose. */
function reportUnsupported(application: object, options: JotDpopOptions): void {
  if (options.fallback !== 'bearer') throw new JotError('dpop-unavailable', unsupportedMessage());
  warnOnce(application, `${unsupportedMessage()} Tokens are requested without a proof (fallback: 'bearer').`);
}

function unsupportedMessage(): string {
  return (
    `withDpop() needs WebCrypto (crypto.subtle: a secure context, https or localhost) and IndexedDB, ` +
    `and this browser lacks one. Serve the app over https, or choose withDpop({ fallback: 'bearer' }) ` +
    `to continue with Bearer tokens where DPoP is unavailable.`
  );
}

/** An answer asking for a proof with the server's nonce (RFC 9449, sections 8 and 9): 401 or 400. */
function isNonceChallenge(error: unknown): boolean {
  if (!(error instanceof HttpErrorResponse) || (error.status !== 401 && error.status !== 400)) return false;
  if (!error.headers.get(NONCE_HEADER)) return false;
  const challenge = error.headers.get('WWW-Authenticate') ?? '';
  const body = error.error as { error?: unknown } | null;
  return challenge.includes(`error="${NONCE_ERROR}"`) || body?.error === NONCE_ERROR;
}
