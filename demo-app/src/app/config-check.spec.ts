import {
  DemoConfigError,
  closestKey,
  idleWarnSeconds,
  jsonErrorLocation,
  parseConfigText,
  parseDemoConfig,
} from './config-check';

const page = { href: 'http://127.0.0.1:4300/', origin: 'http://127.0.0.1:4300' };

function problemsOf(raw: unknown): readonly string[] {
  try {
    parseDemoConfig(raw, page);
  } catch (e) {
    if (e instanceof DemoConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a DemoConfigError');
}

describe('config-check', () => {
  it('names the file, line and column of malformed JSON', () => {
    expect(() => parseConfigText('{\n  "loginUrl": "/a",\n}', 'my.json')).toThrow(/^my\.json:3:1: not valid JSON \(/);
    expect(() => parseConfigText('{"loginUrl": ', 'my.json')).toThrow(/^my\.json:1:14: not valid JSON/);
  });

  it('reads the line and column V8 reports, else counts them from the position', () => {
    expect(jsonErrorLocation('', new SyntaxError('Unexpected token in JSON at position 3 (line 7 column 2)'))).toEqual({
      line: 7,
      column: 2,
    });
    expect(jsonErrorLocation('ab\ncd', new SyntaxError('Bad in JSON at position 4'))).toEqual({ line: 2, column: 2 });
  });

  it('names an unknown key with the closest known one', () => {
    expect(closestKey('loginURL')).toBe('loginUrl');
    expect(closestKey('refresh_url')).toBe('refreshUrl');
    expect(closestKey('frobnicate')).toBeNull();
    expect(problemsOf({ loginURL: '/authenticate', restrictedUrl: '/api/restricted' })).toEqual([
      'unknown key "loginURL": did you mean "loginUrl"?',
      '"loginUrl" is required (a URL relative to apiBaseUrl, e.g. "/authenticate").',
    ]);
  });

  it("quotes each key's own example, not the login URL's", () => {
    expect(problemsOf({ loginUrl: '/authenticate' })).toEqual([
      '"restrictedUrl" is required (a URL relative to apiBaseUrl, e.g. "/api/restricted").',
    ]);
    expect(problemsOf({ loginUrl: '/a', restrictedUrl: 5 })).toEqual([
      '"restrictedUrl" must be a string such as "/api/restricted", got 5.',
    ]);
  });

  it('takes idleSeconds: off when left out or null, else whole seconds >= 2', () => {
    const base = { loginUrl: '/a', restrictedUrl: '/b' };
    expect(parseDemoConfig(base, page).idleSeconds).toBeNull();
    expect(parseDemoConfig({ ...base, idleSeconds: null }, page).idleSeconds).toBeNull();
    expect(parseDemoConfig({ ...base, idleSeconds: 20 }, page).idleSeconds).toBe(20);
    for (const bad of [0, 1, -5, 2.5, '20', true]) {
      expect(problemsOf({ ...base, idleSeconds: bad })).toEqual([
        `"idleSeconds" must be a whole number of seconds >= 2 (e.g. 900), or null for no idle logout; got ${JSON.stringify(bad)}.`,
      ]);
    }
    expect(idleWarnSeconds(20)).toBe(10);
    expect(idleWarnSeconds(900)).toBe(60);
  });

  it('resolves every URL, expireUrl included, against apiBaseUrl', () => {
    const config = parseDemoConfig(
      { apiBaseUrl: 'https://api.example.com/v1/', loginUrl: '/login', restrictedUrl: 'me', expireUrl: '/expire' },
      page,
    );
    expect(config).toMatchObject({
      apiOrigin: 'https://api.example.com',
      loginUrl: 'https://api.example.com/v1/login',
      restrictedUrl: 'https://api.example.com/v1/me',
      expireUrl: 'https://api.example.com/v1/expire',
      refreshUrl: null,
    });
  });
});
