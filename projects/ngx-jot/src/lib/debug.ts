import type { HttpRequest } from '@angular/common/http';
import { DOCUMENT } from '@angular/common';
import { inject } from '@angular/core';

import { JOT_CONFIG, JOT_DEBUG, type JotVerdict } from './tokens';
import { JotFeatureKind, type JotFeature } from './provide-jot';
import { originOf } from './origin-policy';

/**
 * Logs, in dev mode, for each request whether the token was attached and why not: the answer
 * to "why was my token not sent". Does nothing in production builds.
 *
 * @usageNotes
 * ```ts
 * provideJot({ loginUrl: '/authenticate' }, withJotDebug())
 * ```
 */
export function withJotDebug(): JotFeature<JotFeatureKind.Debug> {
  return {
    ɵkind: JotFeatureKind.Debug,
    // Inline, not a function call, so production builds drop the whole logger.
    ɵproviders:
      typeof ngDevMode === 'undefined' || ngDevMode
        ? [
            {
              provide: JOT_DEBUG,
              useFactory: () => {
                const config = inject(JOT_CONFIG);
                const doc = inject(DOCUMENT, { optional: true });
                return (req: HttpRequest<unknown>, verdict: JotVerdict, excludedBy?: string | RegExp) => {
                  const why: Record<JotVerdict, () => string> = {
                    attached: () => 'token attached',
                    skip: () =>
                      req.method === 'JSONP' ? 'not attached: JSONP carries no headers' : 'not attached: JOT_SKIP set',
                    'header-set': () => `not attached: the request already has a ${config.headerName} header`,
                    'no-token': () => 'not attached: no token yet',
                    expired: () => 'not attached: the token expired and cannot be refreshed',
                    excluded: () => `not attached: excluded by ${String(excludedBy ?? 'excludedUrls')}`,
                    origin: () =>
                      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- location is null for a document that is not fully active (HTML spec), though typed `Location`.
                      `not attached: origin ${originOf(req.url, doc?.location?.href) ?? '(unparsable URL)'} not in allowedOrigins ` +
                      `[${[...config.origins, ...config.originPatterns.map(String)].join(', ')}]`,
                  };
                  console.debug(`ngx-jot: ${req.method} ${req.url.split('?')[0]}: ${why[verdict]()}`);
                };
              },
            },
          ]
        : [],
  };
}
