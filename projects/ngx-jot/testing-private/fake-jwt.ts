/*
 * The library's own specs take fakeJwt() from here rather than from 'ngx-jot/testing', which
 * imports 'ngx-jot': specs under src/ then depend on the sources beside them only. Not shipped.
 */
export { fakeJwt } from '../testing/src/fake-jwt';
