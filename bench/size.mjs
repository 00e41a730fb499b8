// 3. Bundle size: the dist FESM as published, and what an app ships: esbuild bundles of small
// entries (minified, ngDevMode false, Angular and rxjs external, everything else in, jwt-decode
// included), each file first put through the Angular CLI's production JavaScript transform
// (linker for the partially compiled ɵɵngDeclare* code, pure annotations, metadata elision).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import * as esbuild from 'esbuild';
import ts from 'typescript';

import { FESM_PATH, ROOT } from './lib/dist.mjs';
import { compressed, distExports, fesmBySource, fesmSize } from './lib/fesm.mjs';

/**
 * What the Angular CLI does to each JavaScript file of a production build before esbuild bundles
 * it: link partial declarations, mark top-level calls pure in "sideEffects": false packages,
 * elide Angular metadata, make enums and static members tree-shakable. It is the CLI's own
 * transformer (@angular/build/private), so sizes match what `ng build` ships.
 */
let transformer;
async function loadTransformer() {
  if (!transformer) {
    const { JavaScriptTransformer } = await import('@angular/build/private');
    transformer = new JavaScriptTransformer({ sourcemap: false, advancedOptimizations: true, jit: false }, 1);
  }
  return transformer;
}

export async function closeTransformer() {
  await transformer?.close();
  transformer = undefined;
}

const sideEffectsCache = new Map();
/** The `sideEffects` field of the package a file belongs to (as esbuild would resolve it). */
function sideEffectsOf(file) {
  let dir = dirname(file);
  while (dir !== dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (sideEffectsCache.has(pkg)) return sideEffectsCache.get(pkg);
    if (existsSync(pkg)) {
      const json = JSON.parse(readFileSync(pkg, 'utf8'));
      if (json.name || json.sideEffects !== undefined) {
        const value = json.sideEffects === false ? false : undefined;
        sideEffectsCache.set(pkg, value);
        return value;
      }
    }
    dir = dirname(dir);
  }
  return undefined;
}

const cliPlugin = {
  name: 'bench-angular-cli-like',
  setup(build) {
    build.onResolve({ filter: /^ngx-jot$/ }, () => ({ path: FESM_PATH }));
    build.onResolve({ filter: /^(@angular\/|rxjs($|\/))/ }, (args) => ({ path: args.path, external: true }));
    build.onLoad({ filter: /\.[cm]?js$/ }, async (args) => {
      const t = await loadTransformer();
      const contents = await t.transformFile(args.path, false, sideEffectsOf(args.path));
      return { contents, loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

/** Bundles `contents` the way an app build would; returns sizes and what each input contributes. */
export async function appCost(contents) {
  const result = await esbuild.build({
    stdin: { contents, resolveDir: ROOT, sourcefile: 'entry.mjs', loader: 'js' },
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    // Resolution as the Angular CLI sets it up.
    conditions: ['es2020', 'es2015', 'module'],
    mainFields: ['es2020', 'es2015', 'browser', 'module', 'main'],
    define: { ngDevMode: 'false' },
    legalComments: 'none',
    metafile: true,
    logLevel: 'silent',
    plugins: [cliPlugin],
  });
  const [out] = result.outputFiles;
  const inputs = Object.values(result.metafile.outputs)[0].inputs;
  const byPackage = {};
  for (const [path, { bytesInOutput }] of Object.entries(inputs)) {
    if (!bytesInOutput) continue;
    const pkg = path.includes('dist/ngx-jot')
      ? 'ngx-jot'
      : (path.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1] ?? '(entry)');
    byPackage[pkg] = (byPackage[pkg] ?? 0) + bytesInOutput;
  }
  return { ...compressed(out.text), byPackage, text: out.text };
}

const JOT_CONFIG = `{ loginUrl: '/authenticate', allowedOrigins: ['https://api.example.com'] }`;

/** The entries measured; `needs` lists exports an entry uses (missing ones are reported, not guessed). */
export function entries(exported = distExports()) {
  const all = [
    'withStorage',
    'withCrossTabSync',
    'withIdleLogout',
    'withDpop',
    'jotClaimsGuard',
    'jotGuestGuard',
    'withJotDebug',
    'JotAuth',
  ];
  const present = (names) => names.filter((n) => exported.has(n));
  const core = ['provideJot', 'withRefresh', 'jotInterceptor', 'jotGuard'];
  const everything = [...core, ...present(all)];
  const feature = (name, call) => (exported.has(name) ? `, ${call}` : '');
  return [
    {
      name: 'ngx-jot core',
      detail: 'provideJot + withRefresh + jotInterceptor + jotGuard',
      missing: core.filter((n) => !exported.has(n)),
      budgetGzip: 7500,
      contents: `
import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { ${core.join(', ')} } from 'ngx-jot';
export const providers = [
  provideHttpClient(withInterceptors([jotInterceptor])),
  provideJot(${JOT_CONFIG}, withRefresh({ url: '/refresh' })),
];
export const routes = [{ path: 'account', canActivate: [jotGuard], children: [] }];
`,
    },
    {
      // What withIdleLogout() alone adds: this entry less 'ngx-jot core'.
      name: 'ngx-jot core + withIdleLogout',
      detail: 'core + withIdleLogout({ afterSeconds: 900 })',
      missing: [...core, 'withIdleLogout'].filter((n) => !exported.has(n)),
      // The issue-15 goal for an app with a feature: at most 10 kB.
      budgetGzip: 10_000,
      contents: `
import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { ${core.join(', ')}, withIdleLogout } from 'ngx-jot';
export const providers = [
  provideHttpClient(withInterceptors([jotInterceptor])),
  provideJot(${JOT_CONFIG}, withRefresh({ url: '/refresh' }), withIdleLogout({ afterSeconds: 900 })),
];
export const routes = [{ path: 'account', canActivate: [jotGuard], children: [] }];
`,
    },
    {
      // The app cost of withDpop() alone is this entry less the core's.
      name: 'ngx-jot core + withDpop',
      detail: 'provideJot + withRefresh + withDpop + jotInterceptor + jotGuard',
      missing: [...core, 'withDpop'].filter((n) => !exported.has(n)),
      // The issue-15 goal for an app with a feature: at most 10 kB.
      budgetGzip: 10_000,
      contents: `
import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { ${core.join(', ')}${feature('withDpop', 'withDpop')} } from 'ngx-jot';
export const providers = [
  provideHttpClient(withInterceptors([jotInterceptor])),
  provideJot(${JOT_CONFIG}, withRefresh({ url: '/refresh' })${feature('withDpop', 'withDpop()')}),
];
export const routes = [{ path: 'account', canActivate: [jotGuard], children: [] }];
`,
    },
    {
      name: 'ngx-jot everything',
      detail: `core + ${all.join(', ')}`,
      missing: all.filter((n) => !exported.has(n)),
      budgetGzip: 10_000,
      contents: `
import { inject } from '@angular/core';
import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { ${everything.join(', ')} } from 'ngx-jot';
export const providers = [
  provideHttpClient(withInterceptors([jotInterceptor])),
  provideJot(${JOT_CONFIG}, withRefresh({ url: '/refresh' })${feature('withStorage', "withStorage('local')")}${feature('withCrossTabSync', 'withCrossTabSync()')}${feature('withIdleLogout', 'withIdleLogout({ afterSeconds: 900 })')}${feature('withDpop', 'withDpop()')}${feature('withJotDebug', 'withJotDebug()')}),
];
export const routes = [
  { path: 'login', canActivate: [${exported.has('jotGuestGuard') ? 'jotGuestGuard' : ''}], children: [] },
  { path: 'account', canActivate: [jotGuard], children: [] },
  { path: 'admin', canMatch: [${exported.has('jotClaimsGuard') ? "jotClaimsGuard((c) => c.roles?.includes('admin') ?? false)" : ''}], children: [] },
];
export const userName = () => ${exported.has('JotAuth') ? 'inject(JotAuth).claims()?.sub' : 'null'};
`,
    },
    {
      name: '@auth0/angular-jwt 5.2.0',
      detail: 'JwtModule.forRoot (interceptor only)',
      missing: [],
      contents: `
import { importProvidersFrom } from '@angular/core';
import { provideHttpClient, withInterceptorsFromDi } from '@angular/common/http';
import { JwtModule } from '@auth0/angular-jwt';
export const providers = [
  provideHttpClient(withInterceptorsFromDi()),
  importProvidersFrom(JwtModule.forRoot({ config: { tokenGetter: () => localStorage.getItem('access_token'), allowedDomains: ['api.example.com'] } })),
];
`,
    },
    {
      name: `@auth0/auth0-angular ${JSON.parse(readFileSync(join(ROOT, 'node_modules/@auth0/auth0-angular/package.json'), 'utf8')).version}`,
      detail: 'provideAuth0 + authHttpInterceptorFn + authGuardFn (with @auth0/auth0-spa-js)',
      missing: [],
      contents: `
import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { authGuardFn, authHttpInterceptorFn, provideAuth0 } from '@auth0/auth0-angular';
export const providers = [
  provideHttpClient(withInterceptors([authHttpInterceptorFn])),
  provideAuth0({ domain: 'example.eu.auth0.com', clientId: 'client', authorizationParams: { redirect_uri: location.origin },
    httpInterceptor: { allowedList: ['https://api.example.com/*'] } }),
];
export const routes = [{ path: 'account', canActivate: [authGuardFn], children: [] }];
`,
    },
  ];
}

/**
 * Bytes of string and template literals in minified JS (error and warning messages, mostly), and
 * the code with every literal of 20 characters or more emptied: what dev-only messages would save.
 */
export function literals(code) {
  const sf = ts.createSourceFile('x.js', code, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  let bytes = 0;
  const cuts = [];
  const visit = (node) => {
    if (
      ts.isStringLiteral(node) ||
      ts.isNoSubstitutionTemplateLiteral(node) ||
      node.kind === ts.SyntaxKind.TemplateHead ||
      node.kind === ts.SyntaxKind.TemplateMiddle ||
      node.kind === ts.SyntaxKind.TemplateTail
    ) {
      if (!ts.isImportDeclaration(node.parent) && !ts.isExportDeclaration(node.parent)) {
        bytes += node.getWidth();
        // Keep the delimiters (quote, backtick, "${", "}") so the code stays valid.
        if (node.getWidth() >= 20) {
          const start = node.getStart();
          const end = node.getEnd();
          const text = node.getText();
          cuts.push([start + 1, end - (text.endsWith('${') ? 2 : 1)]);
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  let stripped = '';
  let at = 0;
  for (const [from, to] of cuts) {
    stripped += code.slice(at, from);
    at = to;
  }
  stripped += code.slice(at);
  return { bytes, stripped };
}

/**
 * Which library source files an app entry pulls in, and their minified bytes: the entry bundled
 * against the TypeScript sources (esbuild, JIT-style decorators, so within a few % of the dist).
 * Attribution only; the sizes above are the dist's.
 */
export async function bySourceFile(contents) {
  const result = await esbuild.build({
    stdin: {
      contents: contents.replace(`from 'ngx-jot'`, `from './projects/ngx-jot/src/public-api.ts'`),
      resolveDir: ROOT,
      loader: 'js',
    },
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    target: 'es2022',
    define: { ngDevMode: 'false' },
    external: ['@angular/*', 'rxjs', 'rxjs/*'],
    metafile: true,
    logLevel: 'silent',
    tsconfigRaw: { compilerOptions: { experimentalDecorators: true, useDefineForClassFields: false } },
  });
  const inputs = Object.values(result.metafile.outputs)[0].inputs;
  return Object.fromEntries(
    Object.entries(inputs)
      .filter(([, v]) => v.bytesInOutput > 0)
      .map(([k, v]) => [
        k
          .replace(/^.*projects\/ngx-jot\/src\/lib\//, '')
          .replace(/^.*node_modules\//, '')
          .replace('<stdin>', '(entry)'),
        v.bytesInOutput,
      ])
      .sort((a, b) => b[1] - a[1]),
  );
}

export async function benchSize() {
  const exported = distExports();
  const fesm = fesmSize();
  // The same FESM with its comments removed (esbuild keeps the code as written otherwise).
  const fesmWithoutComments = compressed(
    (await esbuild.transform(readFileSync(FESM_PATH, 'utf8'), { format: 'esm', legalComments: 'none' })).code,
  );
  const rows = [];
  for (const entry of entries(exported)) {
    const { text, ...size } = await appCost(entry.contents);
    const sources = entry.name.startsWith('ngx-jot') ? await bySourceFile(entry.contents) : undefined;
    rows.push({
      name: entry.name,
      detail: entry.detail,
      missing: entry.missing,
      budgetGzip: entry.budgetGzip,
      ...size,
      sources,
    });
  }
  // Where the library's bytes go: its minified code alone, and how much of it is message text.
  const alone = await appCost(`export * from 'ngx-jot';`);
  const jotOnly = await esbuild.transform(
    Buffer.from(await (await loadTransformer()).transformFile(FESM_PATH, false, false)).toString(),
    {
      minify: true,
      format: 'esm',
      target: 'es2022',
      define: { ngDevMode: 'false' },
      legalComments: 'none',
    },
  );
  const minified = jotOnly.code;
  await closeTransformer();
  const { bytes: literalBytes, stripped } = literals(minified);
  return {
    fesm,
    fesmWithoutComments,
    rows,
    libraryMinified: { ...compressed(minified), literalBytes, withoutLongLiterals: compressed(stripped) },
    allExportsWithJwtDecode: { raw: alone.raw, gzip: alone.gzip, brotli: alone.brotli, byPackage: alone.byPackage },
    fesmBySource: fesmBySource(),
  };
}
