/**
 * Public API of ngx-jot/testing.
 *
 * @module ngx-jot/testing
 */
export { fakeJwt } from './fake-jwt';
export type { FakeJwtOptions } from './fake-jwt';
export { JotTestingController, provideJotTesting } from './provide-jot-testing';
export type { JotRefreshFailure, JotTestingOptions } from './provide-jot-testing';
