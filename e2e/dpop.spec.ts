import { createHash, randomUUID } from 'node:crypto';

import type { Page } from '@playwright/test';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';

import { expect, signIn, test } from './fixtures';

// `npm start -- --dpop`: the API binds tokens to the browser's key and refuses anything else; the
// demo runs withDpop(). Long-lived tokens: every refresh here is one the test caused.
test.use({ dpop: true, accessTtl: 600 });

async function signedInOnRestricted(page: Page): Promise<void> {
  await page.goto('/login?returnUrl=%2Frestricted');
  await signIn(page);
  await expect(page.getByTestId('restricted-data')).toContainText('"name": "foo"');
}

/** The access token as the page stored it (what a script in the page, or a look at the disk, could take). */
async function storedAccessToken(page: Page): Promise<string> {
  const stored = await page.evaluate(() => sessionStorage.getItem('ngx-jot'));
  const token = (JSON.parse(stored ?? '{}') as { accessToken?: unknown }).accessToken;
  expect(typeof token).toBe('string');
  return token as string;
}

/** The DPoP key in the origin's IndexedDB (one session, one key), as the page sees it: whether its private key is extractable; null without one. */
function storedKey(page: Page): Promise<{ extractable: boolean } | null> {
  return page.evaluate(
    () =>
      new Promise<{ extractable: boolean } | null>((resolve) => {
        const open = indexedDB.open('ngx-jot-dpop');
        open.onsuccess = () => {
          const get = open.result.transaction('keys').objectStore('keys').getAll();
          get.onsuccess = () => {
            const [entry] = get.result as Array<{ keys: CryptoKeyPair }>;
            resolve(entry ? { extractable: entry.keys.privateKey.extractable } : null);
          };
        };
      }),
  );
}

test.describe('DPoP (RFC 9449): npm start -- --dpop', () => {
  test('login, protected data, and a burst after expire-token with ONE refresh, all with proofs', async ({
    page,
    api,
  }) => {
    const proofs: string[] = [];
    page.on('request', (req) => {
      const proof = req.headers()['dpop'];
      if (proof) proofs.push(`${req.method()} ${new URL(req.url()).pathname}`);
    });
    await signedInOnRestricted(page);
    expect(proofs).toContain('POST /authenticate');
    expect(proofs).toContain('GET /api/restricted');
    const token = await storedAccessToken(page);
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { cnf?: { jkt?: string } };
    expect(claims.cnf?.jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // The key the page signs with: in IndexedDB, and its private half cannot be exported.
    expect(await storedKey(page)).toEqual({ extractable: false });

    await page.getByTestId('expire-token').click();
    await expect(page.getByTestId('expire-result')).toContainText('the API now refuses this token');
    await api.resetStats();
    proofs.length = 0;
    await page.getByTestId('burst').click();
    await expect(page.getByTestId('burst-result')).toHaveText('10 ok, 0 failed · 10 held, 1 refresh');
    expect(await api.stats()).toMatchObject({ refresh: 1, restricted: 20, restrictedUnauthorized: 10 });
    expect(proofs.filter((p) => p === 'POST /refresh')).toHaveLength(1);
    expect(proofs.filter((p) => p === 'GET /api/restricted')).toHaveLength(20);
  });

  test('the access token taken from storage is useless elsewhere: as Bearer, or with a proof by another key', async ({
    page,
    api,
  }) => {
    await signedInOnRestricted(page);
    const token = await storedAccessToken(page);
    const url = `${api.url}/api/restricted`;

    const asBearer = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
    expect(asBearer.status).toBe(401);

    // A thief's own key, and a proof that is right in every other way.
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const proof = await new SignJWT({
      htm: 'GET',
      htu: url,
      jti: randomUUID(),
      ath: createHash('sha256').update(token).digest('base64url'),
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(publicKey) })
      .setIssuedAt()
      .sign(privateKey);
    const withOtherKey = await fetch(url, { headers: { Authorization: `DPoP ${token}`, DPoP: proof } });
    expect(withOtherKey.status).toBe(401);
    expect(withOtherKey.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_dpop_proof"/);

    // The page itself still gets its data with that very token.
    await page.getByTestId('burst-count').fill('1');
    await page.getByTestId('burst').click();
    await expect(page.getByTestId('burst-result')).toHaveText(/^1 ok, 0 failed/);
  });

  test('two tabs share the key: a burst in each after expire-token makes ONE refresh; a logout deletes the key', async ({
    context,
    api,
  }) => {
    const a = await context.newPage();
    const b = await context.newPage();
    await a.goto('/login?returnUrl=%2Frestricted');
    await b.goto('/restricted');
    await signIn(a);
    for (const page of [a, b]) await expect(page.getByTestId('restricted-data')).toContainText('"name": "foo"');

    await a.getByTestId('expire-token').click();
    await expect(a.getByTestId('expire-result')).toContainText('the API now refuses this token');
    await api.resetStats();
    await a.getByTestId('burst').click();
    await b.getByTestId('burst').click();
    for (const page of [a, b]) await expect(page.getByTestId('burst-result')).toHaveText(/^10 ok, 0 failed/);
    expect(await api.stats()).toMatchObject({ refresh: 1, reuseDetected: 0 });

    expect(await storedKey(b)).toEqual({ extractable: false });
    await a.getByTestId('logout').click();
    await expect(b).toHaveURL(/\/login\?returnUrl=%2Frestricted$/);
    await expect.poll(() => storedKey(b)).toBeNull();
  });
});
