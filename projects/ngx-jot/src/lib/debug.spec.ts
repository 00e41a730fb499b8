import { HttpClient, HttpContext, provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { fakeJwt } from '../../testing-private/fake-jwt';

import { JOT_SKIP } from './context';
import { withJotDebug } from './debug';
import { JotAuth } from './jot-auth';
import { jotInterceptor } from './jot-interceptor';
import { provideJot } from './provide-jot';
import { withStorage } from './storage';

describe('withJotDebug', () => {
  it('logs per request whether the token was attached, and why not', () => {
    TestBed.configureTestingModule({
      providers: [
        provideHttpClient(withInterceptors([jotInterceptor])),
        provideHttpClientTesting(),
        provideJot(
          { loginUrl: '/authenticate', allowedOrigins: ['https://api.example.com'], excludedUrls: [/\/health$/] },
          withStorage('memory'),
          withJotDebug(),
        ),
      ],
    });
    const log = jest.spyOn(console, 'debug').mockImplementation(() => undefined);
    const http = TestBed.inject(HttpClient);
    const ctrl = TestBed.inject(HttpTestingController);
    const get = (url: string, context?: HttpContext) => {
      http.get(url, { context }).subscribe();
      ctrl.expectOne(() => true).flush({});
      return log.mock.calls.at(-1)?.[0];
    };
    expect(get('/api/me')).toBe('ngx-jot: GET /api/me: not attached: no token yet');
    TestBed.inject(JotAuth).setTokens({ accessToken: fakeJwt({}) });
    expect(get('/api/me?x=secret')).toBe('ngx-jot: GET /api/me: token attached');
    expect(get('https://x.example.net/a')).toBe(
      'ngx-jot: GET https://x.example.net/a: not attached: origin https://x.example.net not in allowedOrigins [https://api.example.com]',
    );
    expect(get('/api/x', new HttpContext().set(JOT_SKIP, true))).toBe(
      'ngx-jot: GET /api/x: not attached: JOT_SKIP set',
    );
    http.jsonp('/api/feed', 'callback').subscribe();
    ctrl.expectOne(() => true).flush({});
    expect(log.mock.calls.at(-1)?.[0]).toBe('ngx-jot: JSONP /api/feed: not attached: JSONP carries no headers');
    expect(get('https://api.example.com/health')).toBe(
      'ngx-jot: GET https://api.example.com/health: not attached: excluded by /\\/health$/',
    );
    expect(log.mock.calls.flat().join(' ')).not.toContain(TestBed.inject(JotAuth).token()!);
    log.mockRestore();
  });

  it('names the origin the policy judged: a relative URL resolved against <base href>, not location', () => {
    const base = document.createElement('base');
    base.href = 'https://cdn.example.org/app/';
    document.head.appendChild(base);
    try {
      TestBed.configureTestingModule({
        providers: [
          provideHttpClient(withInterceptors([jotInterceptor])),
          provideHttpClientTesting(),
          provideJot({ loginUrl: '/authenticate' }, withStorage('memory'), withJotDebug()),
        ],
      });
      const log = jest.spyOn(console, 'debug').mockImplementation(() => undefined);
      TestBed.inject(JotAuth).setTokens({ accessToken: fakeJwt({}) });
      TestBed.inject(HttpClient).get('data/x').subscribe();
      const req = TestBed.inject(HttpTestingController).expectOne(() => true);
      expect(req.request.headers.has('Authorization')).toBe(false);
      req.flush({});
      expect(log.mock.calls.at(-1)?.[0]).toBe(
        'ngx-jot: GET data/x: not attached: origin https://cdn.example.org not in allowedOrigins []',
      );
      log.mockRestore();
    } finally {
      base.remove();
    }
  });
});
