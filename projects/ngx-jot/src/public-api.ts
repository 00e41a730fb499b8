/**
 * Public API of ngx-jot. Exports are listed by name so the surface changes only on purpose.
 *
 * @module ngx-jot
 */
export { JOT_DEFAULT_CONFIG, JOT_DEFAULT_REFRESH_BEFORE_EXPIRY_SECONDS, defaultReadTokens } from './lib/config';
export type { JotConfig, JotTokens, JotLogoutReason } from './lib/config';
export { JOT_SKIP } from './lib/context';
export { JotError } from './lib/errors';
export type { JotErrorCode } from './lib/errors';
export { JotAuth } from './lib/jot-auth';
export type { JotLoginOptions, JotLogoutOptions } from './lib/jot-auth';
export type { JotEvent, JotRefreshSource, JotSessionWarning } from './lib/events';
export { jotInterceptor } from './lib/jot-interceptor';
export { jotClaimsGuard, jotGuard, jotGuestGuard, safeReturnUrl } from './lib/guards';
export { JotFeatureKind } from './lib/feature';
export type { JotFeature } from './lib/feature';
export { provideJot } from './lib/provide-jot';
export { withRefresh } from './lib/refresher';
export { jotProtectedPaths } from './lib/server-routes';
export { withJotDebug } from './lib/debug';
export { withCrossTabSync } from './lib/cross-tab';
export { JOT_ACTIVITY_KEY, withIdleLogout } from './lib/idle-logout';
export type { JotIdleLogoutOptions } from './lib/idle-logout';
export { JOT_DEFAULT_WARN_SECONDS } from './lib/session-warning';
export { withDpop } from './lib/dpop';
export type { JotDpopOptions } from './lib/dpop';
export type { JotRefreshOptions } from './lib/refresher';
export { JOT_STORAGE_KEY, withStorage } from './lib/storage';
export type { JotStorageKind, JotTokenStore } from './lib/storage';
export type { JwtPayload } from 'jwt-decode';
// For ngx-jot/testing only; not part of the supported API.
export { JOT_REFRESHER as ɵJOT_REFRESHER } from './lib/feature-contracts';
export type { JotHost as ɵJotHost, JotRefresher as ɵJotRefresher } from './lib/feature-contracts';
export type { JotSession as ɵJotSession } from './lib/jwt-session';
export { SessionState as ɵJotSessionState } from './lib/session-state';
export { refreshRequestBody as ɵrefreshRequestBody } from './lib/refresh-body';
