import type { HttpRequest } from '@angular/common/http';
import { inject } from '@angular/core';

import { JOT_CONFIG } from './config';
import { JotFeatureKind, makeJotFeature, type JotFeature } from './feature';
import { JOT_DEBUG, type JotVerdict } from './feature-contracts';
import { JOT_ORIGIN_POLICY } from './origin-policy';

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
  // Inline, not behind a function call, so production builds drop the whole logger.
  return makeJotFeature(JotFeatureKind.Debug, ngDevMode ? [{ provide: JOT_DEBUG, useFactory: createDebugLog }] : []);
}

function createDebugLog() {
  const config = inject(JOT_CONFIG);
  // The policy that decides, so the log names the origin it judged (resolved against document.baseURI).
  const policy = inject(JOT_ORIGIN_POLICY);
  return (req: HttpRequest<unknown>, verdict: JotVerdict, excludedBy?: string | RegExp) => {
    const why: Record<JotVerdict, () => string> = {
      attached: () => 'token attached',
      skip: () => (req.method === 'JSONP' ? 'not attached: JSONP carries no headers' : 'not attached: JOT_SKIP set'),
      'header-set': () => `not attached: the request already has a ${config.headerName} header`,
      'no-token': () => 'not attached: no token yet',
      expired: () => 'not attached: the token expired and cannot be refreshed',
      excluded: () => `not attached: excluded by ${String(excludedBy ?? 'excludedUrls')}`,
      origin: () =>
        `not attached: origin ${policy.originOf(req.url) ?? '(unparsable URL)'} not in allowedOrigins ` +
        `[${[...config.origins, ...config.originPatterns.map(String)].join(', ')}]`,
    };
    console.debug(`ngx-jot: ${req.method} ${req.url.split('?')[0]}: ${why[verdict]()}`);
  };
}
