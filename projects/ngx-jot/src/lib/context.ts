import { HttpContextToken } from '@angular/common/http';

/**
 * Per request: neither attach the token nor handle a 401.
 *
 * @usageNotes
 * ```ts
 * http.get('/public/news', { context: new HttpContext().set(JOT_SKIP, true) });
 * ```
 */
export const JOT_SKIP = new HttpContextToken<boolean>(() => false);
