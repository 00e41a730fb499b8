import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { errorBody, login, postJson, rawRequest, useServer } from './helpers.ts';

// <tmp>/secret.txt lives next to (outside) the served root <tmp>/www.
const tmp = mkdtempSync(path.join(tmpdir(), 'ngx-jot-demo-api-'));
const root = path.join(tmp, 'www');
mkdirSync(path.join(root, 'assets'), { recursive: true });
mkdirSync(path.join(root, 'docs'), { recursive: true });
writeFileSync(path.join(tmp, 'secret.txt'), 'TOP SECRET');
writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>shell</title>');
writeFileSync(path.join(root, 'main-ABC123.js'), 'console.log(1);');
writeFileSync(path.join(root, 'styles.css'), 'body{}');
writeFileSync(path.join(root, 'assets', 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
writeFileSync(path.join(root, 'docs', 'index.html'), '<p>docs</p>');
writeFileSync(path.join(root, 'config.json'), '{"fromFile":true}');
try {
  symlinkSync(path.join(tmp, 'secret.txt'), path.join(root, 'link.txt'));
} catch {
  // Symlinks may be unavailable; the symlink assertion is skipped then.
}
after(() => rmSync(tmp, { recursive: true, force: true }));

const demoConfig = { apiBaseUrl: '', foreignUrl: 'http://localhost:1/api/echo' };
const withConfig = useServer({
  staticDir: root,
  demoConfig: (info) => ({ ...demoConfig, port: info.port }),
  testHooks: true,
});
const fileConfig = useServer({ staticDir: root });
const noStatic = useServer({ staticDir: path.join(tmp, 'does-not-exist') });

describe('static serving', () => {
  it('serves files with proper content types', async () => {
    const cases: Array<[string, string, string]> = [
      ['/', 'text/html; charset=utf-8', '<!doctype html><title>shell</title>'],
      ['/index.html', 'text/html; charset=utf-8', '<!doctype html><title>shell</title>'],
      ['/main-ABC123.js', 'text/javascript; charset=utf-8', 'console.log(1);'],
      ['/styles.css', 'text/css; charset=utf-8', 'body{}'],
      ['/assets/logo.svg', 'image/svg+xml', '<svg xmlns="http://www.w3.org/2000/svg"/>'],
      ['/docs', 'text/html; charset=utf-8', '<p>docs</p>'],
      ['/styles.css?v=2', 'text/css; charset=utf-8', 'body{}'],
    ];
    for (const [p, type, body] of cases) {
      const res = await fetch(`${withConfig.url}${p}`);
      assert.equal(res.status, 200, p);
      assert.equal(res.headers.get('content-type'), type, p);
      assert.equal(await res.text(), body, p);
    }
    const head = await fetch(`${withConfig.url}/styles.css`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '6');
  });

  it('falls back to index.html for extension-less client routes only', async () => {
    for (const p of ['/login', '/restricted', '/deep/nested/route', '/login?returnUrl=%2Fx']) {
      const res = await fetch(`${withConfig.url}${p}`);
      assert.equal(res.status, 200, p);
      assert.equal(await res.text(), '<!doctype html><title>shell</title>', p);
    }
    for (const p of ['/missing.js', '/assets/missing.png']) {
      const res = await fetch(`${withConfig.url}${p}`);
      assert.equal(res.status, 404, p);
      await errorBody(res);
    }
  });

  it('never falls back for API routes', async () => {
    for (const p of ['/api/unknown', '/api', '/authenticate', '/__nope']) {
      const res = await fetch(`${withConfig.url}${p}`);
      assert.ok(res.status === 404 || res.status === 405, `${p} -> ${res.status}`);
      await errorBody(res);
    }
    const post = await postJson(`${withConfig.url}/some/page`, {});
    assert.equal(post.status, 405);
    await errorBody(post);
  });

  it('refuses path traversal', async () => {
    const attempts = [
      '/..%2f..%2fetc/passwd',
      '/..%2fsecret.txt',
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2e%2e%2fsecret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
      '/%00',
      '/%E0%A4%A',
      '/link.txt',
    ];
    for (const target of attempts) {
      const res = await rawRequest(withConfig.port, 'GET', target);
      assert.ok(res.status >= 400 && res.status < 500, `${target} -> ${res.status}`);
      assert.ok(!res.body.includes('TOP SECRET'), target);
      assert.ok(!res.body.includes('root:'), target);
      assert.ok(!res.body.includes('<title>shell</title>'), `${target} fell back to the SPA`);
    }
  });

  it('is disabled (404) when staticDir does not exist', async () => {
    const res = await fetch(`${noStatic.url}/`);
    assert.equal(res.status, 404);
    await errorBody(res);
  });
});

describe('GET /config.json', () => {
  it('returns demoConfig (with the bound port) when given', async () => {
    const res = await fetch(`${withConfig.url}/config.json`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await res.json(), { ...demoConfig, port: withConfig.port });
  });

  it('falls back to the static file otherwise', async () => {
    const res = await fetch(`${fileConfig.url}/config.json`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { fromFile: true });
  });
});

describe('test hooks', () => {
  it('counts requests per route and resets', async () => {
    const reset = await fetch(`${withConfig.url}/__stats/reset`, { method: 'POST' });
    assert.equal(reset.status, 200);
    await reset.body?.cancel();

    const pair = await login(withConfig.url);
    await (await postJson(`${withConfig.url}/authenticate`, { username: 'john.doe', password: 'bad' })).body?.cancel();
    await (await postJson(`${withConfig.url}/refresh`, { refresh_token: pair.refresh_token })).body?.cancel();
    await (await postJson(`${withConfig.url}/refresh`, { refresh_token: pair.refresh_token })).body?.cancel(); // reuse
    await (await postJson(`${withConfig.url}/logout`, { refresh_token: 'x' })).body?.cancel();
    await (
      await fetch(`${withConfig.url}/api/restricted`, { headers: { Authorization: `Bearer ${pair.access_token}` } })
    ).body?.cancel();
    await (await fetch(`${withConfig.url}/api/restricted`)).body?.cancel();
    await (await fetch(`${withConfig.url}/api/echo`)).body?.cancel();
    await (await fetch(`${withConfig.url}/api/restricted`, { method: 'OPTIONS' })).body?.cancel();

    const stats = await (await fetch(`${withConfig.url}/__stats`)).json();
    assert.deepEqual(stats, {
      authenticate: 2,
      refresh: 2,
      logout: 1,
      restricted: 2,
      restrictedUnauthorized: 1,
      echo: 1,
      expireToken: 0,
      reuseDetected: 1,
    });
    assert.deepEqual({ ...withConfig.api.stats }, stats);

    const again = await fetch(`${withConfig.url}/__stats/reset`, { method: 'POST' });
    assert.equal(((await again.json()) as { authenticate: number }).authenticate, 0);
  });

  it('revokes every refresh family', async () => {
    const a = await login(withConfig.url);
    const b = await login(withConfig.url, 'admin', 'admin');
    const res = await fetch(`${withConfig.url}/__revoke-all`, { method: 'POST' });
    assert.equal(res.status, 204);
    for (const pair of [a, b]) {
      const r = await postJson(`${withConfig.url}/refresh`, { refresh_token: pair.refresh_token });
      assert.equal(r.status, 401);
      await r.body?.cancel();
    }
    const wrongMethod = await fetch(`${withConfig.url}/__revoke-all`);
    assert.equal(wrongMethod.status, 405);
    await wrongMethod.body?.cancel();
  });

  it('are 404 when testHooks is off', async () => {
    for (const [method, p] of [
      ['GET', '/__stats'],
      ['POST', '/__stats/reset'],
      ['POST', '/__revoke-all'],
      ['OPTIONS', '/__stats'],
    ] as const) {
      const res = await fetch(`${fileConfig.url}${p}`, { method });
      assert.equal(res.status, 404, `${method} ${p}`);
      await errorBody(res);
    }
  });
});
