import { HttpClient, HttpContext, provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import fc from 'fast-check';
import { fakeJwt } from '../../testing-private/fake-jwt';

import type { JotConfig } from './config';
import { JOT_SKIP } from './context';
import { JotAuth } from './jot-auth';
import { jotInterceptor } from './jot-interceptor';
import { provideJot } from './provide-jot';
import { withStorage } from './storage';

const ALLOWED = ['https://api.example.com', 'http://localhost:3000'];
const PATTERN = /^https:\/\/[a-z]+\.cdn\.example\.org$/;

function setup(config: Partial<JotConfig> = {}) {
  TestBed.configureTestingModule({
    providers: [
      provideHttpClient(withInterceptors([jotInterceptor])),
      provideHttpClientTesting(),
      provideJot(
        { loginUrl: '/authenticate', allowedOrigins: [...ALLOWED, PATTERN], ...config },
        withStorage('memory'),
      ),
    ],
  });
  const auth = TestBed.inject(JotAuth);
  const token = fakeJwt({ sub: 'ada' });
  auth.setTokens({ accessToken: token });
  return { http: TestBed.inject(HttpClient), ctrl: TestBed.inject(HttpTestingController), auth, token };
}

/** The Authorization header the backend saw for a GET of `url`. */
function sentHeader(url: string, options: { context?: HttpContext; header?: string } = {}): string | null {
  const http = TestBed.inject(HttpClient);
  const ctrl = TestBed.inject(HttpTestingController);
  http.get(url, { context: options.context }).subscribe();
  const req = ctrl.expectOne(() => true);
  const value = req.request.headers.get(options.header ?? 'Authorization');
  req.flush({});
  return value;
}

describe('jotInterceptor: where the token goes', () => {
  // Inside a describe: runs before TestBed's own teardown resets the module.
  afterEach(() => TestBed.inject(HttpTestingController).verify());

  it('sends the token to relative and same-origin URLs', () => {
    const { token } = setup();
    for (const url of [
      '/api/x',
      'api/x',
      './x',
      '../x',
      '/',
      '?q=1',
      'http://localhost/api',
      '/a?b=https://evil.com',
    ]) {
      expect(sentHeader(url)).toBe(`Bearer ${token}`);
    }
  });

  it('sends the token to allowed origins, exact or by RegExp', () => {
    const { token } = setup();
    for (const url of [
      'https://api.example.com/v1/me',
      'https://API.example.com:443/x',
      'http://localhost:3000/x',
      'https://eu.cdn.example.org/a',
    ]) {
      expect(sentHeader(url)).toBe(`Bearer ${token}`);
    }
  });

  it.each([
    ['a look-alike host', 'https://api.example.com.evil.com/x'],
    ['userinfo before another host', 'https://api.example.com@evil.com/x'],
    ['a protocol-relative URL', '//evil.com/x'],
    ['a backslash protocol-relative URL', '/\\evil.com/x'],
    ['a double backslash', '\\\\evil.com/x'],
    ['a tab hidden in the slashes', '/\t/evil.com/x'],
    ['leading whitespace', '  //evil.com/x'],
    ['http for an https origin', 'http://api.example.com/x'],
    ['another port', 'https://api.example.com:8443/x'],
    ['the allowed origin in a query', 'https://evil.com/?next=https://api.example.com'],
    ['the allowed origin in a path', 'https://evil.com/https://api.example.com/x'],
    ['a subdomain of an allowed origin', 'https://x.api.example.com/x'],
    ['an unanchored-looking pattern host', 'https://eu.cdn.example.org.evil.com/a'],
    ['a data URL', 'data:text/plain,hi'],
    ['an unparsable URL', 'http://[::1'],
  ])('never sends the token to %s (%s)', (_what, url) => {
    setup();
    expect(sentHeader(url)).toBeNull();
  });

  it('never lets the token leave the allowed set (property)', () => {
    const { token } = setup();
    const allowedOrigin = (u: string) => {
      try {
        const o = new URL(u, 'http://localhost/').origin;
        return o === 'http://localhost' || ALLOWED.includes(o) || PATTERN.test(o);
      } catch {
        return false;
      }
    };
    const host = fc.oneof(
      fc.constantFrom(
        'api.example.com',
        'localhost',
        'evil.com',
        'api.example.com.evil.com',
        'eu.cdn.example.org',
        'x.cdn.example.org.evil.com',
      ),
      fc.domain(),
    );
    const url = fc.oneof(
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc
        .tuple(
          fc.constantFrom(
            'http://',
            'https://',
            '//',
            '/\\',
            '\\\\',
            '/',
            '',
            ' //',
            'HTTPS://',
            'https:/',
            'https:\\\\',
            '/\t/',
          ),
          fc.option(fc.constantFrom('user@', 'api.example.com@', 'a:b@'), { nil: '' }),
          host,
          fc.option(fc.constantFrom(':443', ':3000', ':80', ':8443'), { nil: '' }),
          fc.option(
            fc.constantFrom('/p', '/https://api.example.com', '?u=https://api.example.com', '#https://api.example.com'),
            { nil: '' },
          ),
        )
        .map((parts) => parts.join('')),
    );
    fc.assert(
      fc.property(url, (u) => {
        const sent = sentHeader(u);
        expect(sent === `Bearer ${token}`).toBe(allowedOrigin(u));
      }),
      { numRuns: 400 },
    );
  });

  it('sends nothing with JOT_SKIP or to excludedUrls', () => {
    setup({ excludedUrls: ['/public/', /\/health$/, 'https://api.example.com/open'] });
    expect(sentHeader('/api/x', { context: new HttpContext().set(JOT_SKIP, true) })).toBeNull();
    expect(sentHeader('/public/news')).toBeNull();
    expect(sentHeader('https://api.example.com/health')).toBeNull();
    expect(sentHeader('https://api.example.com/open/x')).toBeNull();
    expect(sentHeader('/api/health-check')).not.toBeNull();
  });

  it('keeps excludedUrls out of reach of dot segments and relative spellings', () => {
    // The page is http://localhost/ (jsdom): every spelling below resolves to /public/x.
    setup({ excludedUrls: ['/public/', /^\/open\//] });
    for (const url of [
      '/./public/x',
      '/api/../public/x',
      'public/x',
      './public/x',
      '/%2e/public/x',
      '/open/../public/x',
    ]) {
      expect(sentHeader(url)).toBeNull();
    }
    for (const url of ['/./open/x', 'open/x', '/api/../open/x']) {
      expect(sentHeader(url)).toBeNull();
    }
    expect(sentHeader('/publicity/x')).not.toBeNull();
    expect(sentHeader('/public/../api/x')).not.toBeNull();
  });

  it('lets JSONP requests through untouched (Angular refuses headers on them)', () => {
    const { http, ctrl } = setup();
    http.jsonp('/api/feed', 'callback').subscribe();
    const req = ctrl.expectOne((r) => r.method === 'JSONP');
    expect(req.request.headers.has('Authorization')).toBe(false);
    req.flush({});
  });

  it('judges every request alike with g or y flagged patterns (test() would resume at lastIndex)', () => {
    setup({ excludedUrls: [/^\/public\//g], allowedOrigins: [/^https:\/\/api\.example\.com$/y] });
    // Two in a row: a stateful pattern matches, then resumes past the end and misses.
    expect(sentHeader('/public/a')).toBeNull();
    expect(sentHeader('/public/b')).toBeNull();
    // Two spellings of one origin (two cache keys), so the pattern is asked twice.
    expect(sentHeader('https://api.example.com/x')).not.toBeNull();
    expect(sentHeader('https://api.example.com:443/x')).not.toBeNull();
  });

  it('uses the configured header name and scheme', () => {
    const { token } = setup({ headerName: 'X-Auth', scheme: 'Token' });
    expect(sentHeader('/api', { header: 'X-Auth' })).toBe(`Token ${token}`);
    TestBed.resetTestingModule();
    const bare = setup({ scheme: '' });
    expect(sentHeader('/api')).toBe(bare.token);
  });

  it('leaves a credential the caller set alone', () => {
    const { http, ctrl } = setup();
    http.get('/api', { headers: { Authorization: 'Basic abc' } }).subscribe();
    const req = ctrl.expectOne('/api');
    expect(req.request.headers.get('Authorization')).toBe('Basic abc');
    req.flush({});
  });

  it('sends no header without a session', () => {
    const { auth } = setup();
    auth.logout();
    expect(sentHeader('/api')).toBeNull();
  });

  it('never sends a malformed token', () => {
    const { auth } = setup();
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    auth.setTokens({ accessToken: 'not.a.jwt' });
    expect(sentHeader('/api')).toBeNull();
    expect(warn).toHaveBeenCalledTimes(1);
    warn.mockRestore();
  });
});

describe('jotInterceptor: an expired token without refresh', () => {
  afterEach(() => TestBed.inject(HttpTestingController).verify());

  it('ends the session (expired) instead of sending it doomed', () => {
    const { auth } = setup();
    const events: unknown[] = [];
    auth.events.subscribe((e) => events.push(e));
    auth.setTokens({ accessToken: fakeJwt({}, { expiresInSeconds: -60 }) });
    expect(sentHeader('/api')).toBeNull();
    expect(auth.isAuthenticated()).toBe(false);
    expect(events).toContainEqual({ type: 'logout', reason: 'expired' });
  });

  it('ends the session on a 401 and passes the 401 on', () => {
    const { http, ctrl, auth } = setup();
    let status = 0;
    http.get('/api').subscribe({ error: (e) => (status = e.status) });
    ctrl.expectOne('/api').flush({}, { status: 401, statusText: 'Unauthorized' });
    expect(status).toBe(401);
    expect(auth.token()).toBeNull();
  });
});
