/**
 * Public API of ngx-jot. Exports are listed by name so the surface changes only on purpose.
 *
 * @module ngx-jot
 */
export { JOT_DEFAULT_CONFIG, defaultReadTokens } from './lib/config';
export type { JotConfig, JotTokens, JotLogoutReason } from './lib/config';
export { JOT_SKIP } from './lib/context';
export { JotError } from './lib/errors';
export type { JotErrorCode } from './lib/errors';
export { JotAuth } from './lib/jot-auth';
export type { JotEvent, JotLoginOptions, JotLogoutOptions } from './lib/jot-auth';
export { jotInterceptor } from './lib/jot-interceptor';
export { jotClaimsGuard, jotGuard, jotGuestGuard, safeReturnUrl } from './lib/guards';
export { jotProtectedPaths } from './lib/server-routes';
export { JotFeatureKind, provideJot, withRefresh, withStorage } from './lib/provide-jot';
export type { JotFeature } from './lib/provide-jot';
export { withJotDebug } from './lib/debug';
export { withCrossTabSync } from './lib/cross-tab';
export { JOT_ACTIVITY_KEY, withIdleLogout } from './lib/idle-logout';
export type { JotIdleLogoutOptions } from './lib/idle-logout';
export { JOT_DEFAULT_WARN_SECONDS } from './lib/session-warning';
export type { JotSessionWarning } from './lib/session-warning';
export { JOT_DEFAULT_REFRESH_BEFORE_EXPIRY_SECONDS } from './lib/refresh-queue';
export type { JotRefreshOptions } from './lib/refresh-queue';
export { JOT_STORAGE_KEY } from './lib/storage';
export type { JotStorageKind, JotTokenStore } from './lib/storage';
export type { JwtPayload } from 'jwt-decode';
// For ngx-jot/testing only; not part of the supported API.
export { JOT_REFRESHER as ɵJOT_REFRESHER } from './lib/tokens';
export type { JotHost as ɵJotHost, JotRefresher as ɵJotRefresher } from './lib/tokens';
export type { JotSession as ɵJotSession } from './lib/token';
