import { JotError } from './errors';
import { defaultReadTokens, resolveConfig, type JotConfig } from './config';
import { provideJot } from './provide-jot';
import { withRefresh } from './refresher';
import { withStorage } from './storage';
import { type JotFeature } from './feature';
import { withCrossTabSync } from './cross-tab';

const configError = (config: unknown) => {
  try {
    resolveConfig(config as JotConfig);
  } catch (e) {
    expect(e).toBeInstanceOf(JotError);
    expect((e as JotError).code).toBe('config');
    return (e as JotError).message;
  }
  throw new Error('no error');
};

describe('config checks at start-up', () => {
  it.each([
    ['a missing config', undefined, /needs a config object/],
    ['an empty loginUrl', { loginUrl: ' ' }, /loginUrl must be a non-empty URL/],
    [
      'an origin with a path',
      { loginUrl: '/a', allowedOrigins: ['https://api.example.com/v1'] },
      /use 'https:\/\/api\.example\.com'/,
    ],
    ['an origin without a scheme', { loginUrl: '/a', allowedOrigins: ['api.example.com'] }, /has no scheme/],
    [
      'an origin host:port without scheme',
      { loginUrl: '/a', allowedOrigins: ['localhost:3000'] },
      /not an http\(s\) origin/,
    ],
    [
      'an origin with credentials',
      { loginUrl: '/a', allowedOrigins: ['https://u:p@api.example.com'] },
      /Remove the path, query or credentials/,
    ],
    ['an origin with a query', { loginUrl: '/a', allowedOrigins: ['https://api.example.com?x=1'] }, /Remove the path/],
    ['an empty origin', { loginUrl: '/a', allowedOrigins: [''] }, /allowedOrigins entries are origins/],
    ['a negative leeway', { loginUrl: '/a', leewaySeconds: -1 }, /leewaySeconds must be a finite number >= 0/],
    ['a header name with a space', { loginUrl: '/a', headerName: 'X Auth' }, /valid HTTP header name/],
    ['a scheme with a space', { loginUrl: '/a', scheme: 'Bearer x' }, /single word/],
    [
      'a relative loginRoute',
      { loginUrl: '/a', loginRoute: 'login' },
      /loginRoute must be an app path starting with '\/'/,
    ],
    ['a bad ssr mode', { loginUrl: '/a', ssr: 'sometimes' }, /ssr must be 'defer' or 'redirect'/],
    ['an empty excluded URL', { loginUrl: '/a', excludedUrls: [''] }, /excludedUrls entries/],
    ['readTokens not a function', { loginUrl: '/a', readTokens: 'token' }, /readTokens must be a function/],
    // A lone string would otherwise be split into characters: '/public' excluding every URL under '/'.
    ['excludedUrls as a string', { loginUrl: '/a', excludedUrls: '/public' }, /excludedUrls must be an array/],
    [
      'allowedOrigins as a string',
      { loginUrl: '/a', allowedOrigins: 'https://api.example.com' },
      /allowedOrigins must be an array/,
    ],
  ])('rejects %s, saying what to change', (_what, config, message) => {
    const text = configError(config);
    expect(text).toMatch(/^ngx-jot: /);
    expect(text).toMatch(message);
  });

  it('accepts and normalises good origins (trailing slash, default port, case)', () => {
    const resolved = resolveConfig({
      loginUrl: '/a',
      allowedOrigins: ['https://API.example.com/', 'https://x.example.com:443', 'http://localhost:3000'],
    });
    expect([...resolved.origins]).toEqual([
      'https://api.example.com',
      'https://x.example.com',
      'http://localhost:3000',
    ]);
  });

  it('warns (dev) about an unanchored RegExp origin', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    resolveConfig({ loginUrl: '/a', allowedOrigins: [/api\.example\.com/, /^https:\/\/ok\.example\.com$/] });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/not anchored/);
    warn.mockRestore();
  });

  it('reads the three default response shapes and nothing else', () => {
    expect(defaultReadTokens({ token: 't' })).toEqual({ accessToken: 't', refreshToken: undefined });
    expect(defaultReadTokens({ access_token: 't', refresh_token: 'r' })).toEqual({
      accessToken: 't',
      refreshToken: 'r',
    });
    expect(defaultReadTokens({ accessToken: 't', refreshToken: 'r' })).toEqual({ accessToken: 't', refreshToken: 'r' });
    expect(defaultReadTokens({ access_token: 5 })).toBeNull();
    expect(defaultReadTokens('t')).toBeNull();
    expect(defaultReadTokens(null)).toBeNull();
  });
});

describe('provideJot features', () => {
  it('refuses memory storage with cross-tab sync, saying why', () => {
    expect(() => provideJot({ loginUrl: '/a' }, withStorage('memory'), withCrossTabSync())).toThrow(
      /withStorage\('memory'\) cannot be combined with withCrossTabSync\(\)/,
    );
  });

  it('refuses the same feature twice and things that are not features', () => {
    expect(() => provideJot({ loginUrl: '/a' }, withRefresh({ url: '/r' }), withRefresh({ url: '/r2' }))).toThrow(
      /same feature twice/,
    );
    expect(() => provideJot({ loginUrl: '/a' }, {} as JotFeature)).toThrow(/features must be made by/);
  });

  it('checks feature options', () => {
    expect(() => withRefresh({ url: '' })).toThrow(/withRefresh\(\) needs the refresh endpoint/);
    expect(() => withRefresh({ url: '/r', refreshBeforeExpirySeconds: -5 })).toThrow(/refreshBeforeExpirySeconds/);
    expect(() => withStorage('cookie' as 'local')).toThrow(/withStorage\(\) takes 'session', 'local', 'memory'/);
    expect(() => withStorage({ get: () => null } as never)).toThrow(/get\(\) and set\(tokens\)/);
  });
});

describe('JotAuth without provideJot()', () => {
  it('fails with a message that says what to add', () => {
    // Imported lazily so the TestBed of this file starts clean.
    const { TestBed } = jest.requireActual<typeof import('@angular/core/testing')>('@angular/core/testing');
    const { JotAuth } = jest.requireActual<typeof import('./jot-auth')>('./jot-auth');
    expect(() => TestBed.inject(JotAuth)).toThrow(
      /no configuration found\. Add provideJot\(\{ loginUrl: '\/authenticate' \}\)/,
    );
  });
});
