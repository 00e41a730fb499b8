import { DOCUMENT } from '@angular/common';
import { InjectionToken, inject } from '@angular/core';

import { JOT_CONFIG, type ResolvedJotConfig } from './config';

/** Bound of the per-URL decision cache; past it the cache starts over (URLs with ids vary). */
const CACHE_LIMIT = 512;

/**
 * The cache key of a URL. First branch: `scheme://host[:port]` in its plain form, ended by "/",
 * "?", "#" or the end; the origin of such a URL is the origin of this prefix alone, so ids in paths
 * do not miss. Anything unusual (userinfo, backslashes, tabs, "%", IPv6) and relative URLs fall to
 * the second branch, which always matches: the URL up to its first "?" or "#", since the origin is
 * settled before them. It only picks a cache key; the verdict still comes from the URL parser.
 */
const CACHE_KEY = /^https?:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?(?=[/?#]|$)|^[^?#]*/;

/**
 * "/" alone, or "/" then one of `a-z A-Z 0-9 - . _ ~ ? # %`: a path-absolute URL, so same-origin,
 * known without parsing. Anything else ("//host", "/\host", "/\thost", which the parser turns into
 * a host) is not, and takes the full parse.
 */
function isPathAbsolute(url: string): boolean {
  if (url.charCodeAt(0) !== 47 /* / */) return false;
  const second = url.charCodeAt(1);
  // Setting bit 5 maps A-Z onto a-z, and no other code onto them.
  const lower = second | 32;
  return (
    url.length === 1 || (lower >= 97 && lower <= 122) || (second >= 48 && second <= 57) || '-._~?#%'.includes(url[1])
  );
}

/**
 * Decides which URLs may carry the token. Origins are compared whole (scheme, host, port) as the
 * WHATWG URL parser resolves them against `document.baseURI`, like Angular's XSRF interceptor.
 */
export class OriginPolicy {
  // `#private`: minifiers shorten these names, unlike TypeScript's `private` ones.
  readonly #config: ResolvedJotConfig;
  readonly #cache = new Map<string, boolean>();
  readonly #base: string;
  readonly #self: string;
  /** A `<base href>` on another origin would send "/x" elsewhere; then nothing is taken on trust. */
  readonly #fastPath: boolean;
  /** `excludedUrls`, string entries resolved once as request URLs are (same order). */
  readonly #excluded: readonly (string | RegExp)[];

  constructor(config: ResolvedJotConfig, doc: Document | null) {
    this.#config = config;
    let base: string | null | undefined;
    try {
      base = doc?.baseURI;
    } catch {
      // Domino, the server DOM of @angular/platform-server, throws on baseURI (NotYetImplemented).
    }
    // Null for a document that is not fully active (HTML spec), though typed `Location`.
    const href = (doc?.location as Location | null | undefined)?.href;
    const against = (this.#base = base || href || 'http://localhost/');
    const self = (this.#self = originOf(href ?? against) ?? 'null');
    this.#fastPath = originOf(against) === self;
    this.#excluded = config.excludedUrls.map((entry) => (typeof entry === 'string' ? hrefOf(entry, against) : entry));
  }

  /** The origin of `url` as this policy resolves it (against `document.baseURI`), or null when it does not parse. */
  originOf(url: string): string | null {
    return originOf(url, this.#base);
  }

  /** The origin is the page's own or an allowed one. */
  allowsOrigin(url: string): boolean {
    // Hot path: "/api/x" is same-origin, with no parsing and no cache.
    if (this.#fastPath && isPathAbsolute(url)) return true;
    const cache = this.#cache;
    // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- CACHE_KEY's second branch matches every string.
    const key = CACHE_KEY.exec(url)![0];
    let verdict = cache.get(key);
    if (verdict === undefined) {
      const origin = originOf(key, this.#base);
      const { origins, originPatterns } = this.#config;
      // An unparsable URL (null) or an opaque origin ("null", e.g. data:) never gets the token.
      verdict =
        !!origin &&
        origin !== 'null' &&
        (origin === this.#self ||
          origins.has(origin) ||
          // Patterns have no g or y flag (resolveConfig drops them), so test() keeps no state.
          originPatterns.some((pattern) => pattern.test(origin)));
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(key, verdict);
    }
    return verdict;
  }

  /**
   * The first `excludedUrls` entry that matches. Entries and the URL are compared as the URL
   * parser resolves them against `document.baseURI`, so dot segments and relative spellings
   * (`/./public/x`, `/api/../public/x`, `public/x`) cannot step around an entry: a string entry
   * is a prefix of the resolved URL; a RegExp is tested against the URL as written, as resolved,
   * and, on the page's own origin, as the resolved path (`/public/x`).
   * The interceptor calls it only when there are entries, so it does not check for none.
   */
  excludedBy(url: string): string | RegExp | undefined {
    const absolute = hrefOf(url, this.#base);
    const self = this.#self;
    const path = absolute.startsWith(`${self}/`) ? absolute.slice(self.length) : absolute;
    return this.#config.excludedUrls.find((e, i) =>
      typeof e === 'string'
        ? absolute.startsWith(this.#excluded[i] as string)
        : e.test(url) || e.test(absolute) || e.test(path),
    );
  }
}

/** `new URL(url, base).href`, or the URL as written when it does not parse. */
function hrefOf(url: string, base: string): string {
  try {
    return new URL(url, base).href;
  } catch {
    return url;
  }
}

/** `new URL(url, base).origin`, or null when the URL does not parse. */
export function originOf(url: string, base?: string): string | null {
  try {
    return new URL(url, base).origin;
  } catch {
    return null;
  }
}

/** The one origin policy of an application: the interceptor, the refresher and `withJotDebug()` ask it. */
export const JOT_ORIGIN_POLICY = new InjectionToken<OriginPolicy>(ngDevMode ? 'JOT_ORIGIN_POLICY' : '');

/** The policy of the injector's configuration; `provideJot()` provides one per injector that calls it. */
export function createOriginPolicy(): OriginPolicy {
  return new OriginPolicy(inject(JOT_CONFIG), inject(DOCUMENT, { optional: true }));
}
