/** Unit tests of the small stateless units of the demo API (users, JSON bodies, CORS, static paths, stats). */
import assert from 'node:assert/strict';
import type http from 'node:http';
import path from 'node:path';
import { describe, it } from 'node:test';

import { applyCors } from '../src/cors.ts';
import { HttpError, parseJsonObject, requireString } from '../src/http-json.ts';
import { resolveInside } from '../src/static-files.ts';
import { StatsCounter } from '../src/stats.ts';
import { checkCredentials, findUser } from '../src/users.ts';

describe('users (unit)', () => {
  it('accepts only a matching username and password pair', () => {
    assert.equal(checkCredentials('john.doe', 'foobar')?.email, 'john.doe@example.com');
    assert.equal(checkCredentials('admin', 'admin')?.name, 'Ada Admin');
    assert.equal(checkCredentials('john.doe', 'admin'), undefined);
    assert.equal(checkCredentials('admin', 'foobar'), undefined);
    assert.equal(findUser('admin')?.roles.includes('admin'), true);
    assert.equal(findUser('nobody'), undefined);
  });
});

describe('JSON bodies (unit)', () => {
  const status = (run: () => unknown): number | undefined => {
    try {
      run();
      return undefined;
    } catch (err) {
      return err instanceof HttpError ? err.status : -1;
    }
  };

  it('reads a JSON object and refuses anything else with 400', () => {
    assert.deepEqual(parseJsonObject('{"a":1}'), { a: 1 });
    for (const text of ['', '{', '[]', 'null', '"text"', '3'])
      assert.equal(
        status(() => parseJsonObject(text)),
        400,
        text,
      );
  });

  it('requires non-empty string fields', () => {
    assert.equal(requireString({ name: 'x' }, 'name'), 'x');
    for (const body of [{}, { name: '' }, { name: 3 }, { name: null }]) {
      assert.equal(
        status(() => requireString(body, 'name')),
        400,
        JSON.stringify(body),
      );
    }
  });
});

describe('CORS (unit)', () => {
  const headersFor = (origin: string | undefined, pathname: string, preflight: boolean): Record<string, string> => {
    const set: Record<string, string> = {};
    const res = { setHeader: (name: string, value: string) => (set[name] = value) } as unknown as http.ServerResponse;
    const req = { headers: origin === undefined ? {} : { origin } } as http.IncomingMessage;
    applyCors(new Set(['http://allowed.test']), req, res, pathname, preflight);
    return set;
  };

  it('credentialed CORS for an allowed origin only', () => {
    const allowed = headersFor('http://allowed.test', '/refresh', true);
    assert.equal(allowed['Access-Control-Allow-Origin'], 'http://allowed.test');
    assert.equal(allowed['Access-Control-Allow-Credentials'], 'true');
    assert.equal(allowed['Access-Control-Allow-Methods'], 'GET, POST, OPTIONS');
    assert.deepEqual(headersFor('http://other.test', '/refresh', true), { Vary: 'Origin' });
    assert.equal(headersFor('http://allowed.test', '/refresh', false)['Access-Control-Allow-Methods'], undefined);
  });

  it('the echo API is open to any origin, without credentials', () => {
    const open = headersFor('http://other.test', '/api/echo', false);
    assert.deepEqual(open, { 'Access-Control-Allow-Origin': '*' });
  });
});

describe('static paths (unit)', () => {
  const root = path.resolve('/srv/app');

  it('resolves paths inside the root and refuses every way out', () => {
    assert.equal(resolveInside(root, '/assets/a%20b.js'), path.join(root, 'assets', 'a b.js'));
    for (const target of ['/../etc/passwd', '/a/%2e%2e/b', '/a%5cb', '/a%00b', '/%E0%A4%A']) {
      assert.equal(resolveInside(root, target), null, target);
    }
  });
});

describe('stats (unit)', () => {
  it('counts, hands out copies and resets', () => {
    const stats = new StatsCounter();
    stats.count('refresh');
    const snapshot = stats.snapshot();
    stats.count('refresh');
    assert.equal(snapshot.refresh, 1);
    assert.equal(stats.snapshot().refresh, 2);
    stats.reset();
    assert.equal(stats.snapshot().refresh, 0);
  });
});
