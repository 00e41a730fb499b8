import type { ResolvedJotConfig } from './config';

/** Bound of the per-URL decision cache; past it the cache starts over (URLs with ids vary). */
const CACHE_LIMIT = 512;

/**
 * `scheme://host[:port]` in its plain form, ended by "/", "?", "#" or the end: the origin of such a
 * URL is the origin of this prefix alone, so the cache keys on it and ids in paths do not miss.
 * It only picks a cache key; the verdict still comes from the URL parser. Anything unusual
 * (userinfo, backslashes, tabs, "%", IPv6) does not match and keys on the whole URL.
 */
const PLAIN_ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?(?=[/?#]|$)/;

/** The URL up to its first "?" or "#": the origin is settled before them. */
function beforeQuery(url: string): string {
  let end = url.length;
  const q = url.indexOf('?');
  const h = url.indexOf('#');
  if (q >= 0) end = q;
  if (h >= 0 && h < end) end = h;
  return end === url.length ? url : url.slice(0, end);
}

/** `a-z A-Z 0-9 - . _ ~ ? # %`: after a leading `/`, these make a path-absolute URL. */
function isPathStart(code: number): boolean {
  return (
    (code >= 48 && code <= 57) ||
    (code >= 65 && code <= 90) ||
    (code >= 97 && code <= 122) ||
    code === 45 ||
    code === 46 ||
    code === 95 ||
    code === 126 ||
    code === 63 ||
    code === 35 ||
    code === 37
  );
}

/**
 * Decides which URLs may carry the token. Origins are compared whole (scheme, host, port) as the
 * WHATWG URL parser resolves them against `document.baseURI`, like Angular's XSRF interceptor.
 */
export class OriginPolicy {
  private readonly cache = new Map<string, boolean>();
  private readonly base: string;
  private readonly self: string;
  /** A `<base href>` on another origin would send "/x" elsewhere; then nothing is taken on trust. */
  private readonly fastPath: boolean;

  constructor(
    private readonly config: ResolvedJotConfig,
    doc: Document | null,
  ) {
    let base: string | null | undefined;
    try {
      base = doc?.baseURI;
    } catch {
      // Domino, the server DOM of @angular/platform-server, throws on baseURI (NotYetImplemented).
    }
    // Null for a document that is not fully active (HTML spec), though typed `Location`.
    const location: Location | null | undefined = doc?.location;
    this.base = base || location?.href || 'http://localhost/';
    this.self = originOf(location?.href ?? this.base) ?? 'null';
    this.fastPath = originOf(this.base) === this.self;
  }

  /** The origin is the page's own or an allowed one. */
  allowsOrigin(url: string): boolean {
    // Hot path: "/api/x" is path-absolute, so same-origin, with no parsing. Anything else
    // ("//host", "/\host", "/\thost", which the parser turns into a host) takes the full parse.
    if (this.fastPath && url.charCodeAt(0) === 47 && (url.length === 1 || isPathStart(url.charCodeAt(1)))) return true;
    const key = PLAIN_ORIGIN.exec(url)?.[0] ?? beforeQuery(url);
    let verdict = this.cache.get(key);
    if (verdict === undefined) {
      verdict = this.judge(originOf(key, this.base));
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(key, verdict);
    }
    return verdict;
  }

  /** The first `excludedUrls` entry that matches, tested against the URL as written and as resolved. */
  excludedBy(url: string): string | RegExp | undefined {
    const list = this.config.excludedUrls;
    if (list.length === 0) return undefined;
    let absolute: string;
    try {
      absolute = new URL(url, this.base).href;
    } catch {
      absolute = url;
    }
    return list.find((e) =>
      typeof e === 'string' ? url.startsWith(e) || absolute.startsWith(e) : e.test(url) || e.test(absolute),
    );
  }

  private judge(origin: string | null): boolean {
    if (origin === null || origin === 'null') return false;
    if (origin === this.self || this.config.origins.has(origin)) return true;
    return this.config.originPatterns.some((p) => {
      p.lastIndex = 0;
      return p.test(origin);
    });
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
