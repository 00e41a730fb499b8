/*
 * Public API of ngx-jot/testing.
 */
export { fakeJwt } from './fake-jwt';
export type { FakeJwtOptions } from './fake-jwt';
