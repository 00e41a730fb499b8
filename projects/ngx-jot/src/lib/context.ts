import { HttpContext, HttpContextToken } from '@angular/common/http';

/**
 * Per request: neither attach the token nor handle a 401.
 *
 * @usageNotes
 * ```ts
 * http.get('/public/news', { context: new HttpContext().set(JOT_SKIP, true) });
 * ```
 */
export const JOT_SKIP = new HttpContextToken<boolean>(() => false);

/** The context of ngx-jot's own calls (login, refresh, logout): no token, no 401 handling. A new one each time: a context is mutable. */
export function skipJotContext(): HttpContext {
  return new HttpContext().set(JOT_SKIP, true);
}
