import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { logging } from '@angular-devkit/core';
import { HostTree } from '@angular-devkit/schematics';
import { SchematicTestRunner, UnitTestTree } from '@angular-devkit/schematics/testing';
import ts from 'typescript';

import type { Schema } from './schema';

const COLLECTION = join(__dirname, '..', 'collection.json');
const VERSION: string = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')).version;
const APP_CONFIG = '/projects/app/src/app/app.config.ts';
const MAIN = '/projects/app/src/main.ts';

type Files = ReadonlyMap<string, string>;

describe('ng-add schematic', () => {
  const runner = new SchematicTestRunner('ngx-jot', COLLECTION);
  let standalone: Files;
  let ngModule: Files;
  let twoApps: Files;
  let ssr: Files;
  let logs: logging.LogEntry[] = [];
  runner.logger.subscribe((entry) => logs.push(entry));

  /** A workspace made by @schematics/angular, the way `ng new` makes it. */
  async function workspace(apps: Array<{ name: string; standalone: boolean; ssr?: boolean }>): Promise<Files> {
    let tree = await runner.runExternalSchematic('@schematics/angular', 'workspace', {
      name: 'workspace',
      newProjectRoot: 'projects',
      version: '21.2.24',
    });
    for (const app of apps) {
      tree = await runner.runExternalSchematic(
        '@schematics/angular',
        'application',
        { name: app.name, standalone: app.standalone, ssr: app.ssr ?? false, skipInstall: true },
        tree,
      );
    }
    return snapshot(tree);
  }

  function snapshot(tree: UnitTestTree): Files {
    return new Map(tree.files.map((path) => [path, tree.readContent(path)]));
  }

  /** A fresh tree holding `files`, with `edits` (path → new content) applied. */
  function treeOf(files: Files, edits: Record<string, string> = {}): UnitTestTree {
    const tree = new UnitTestTree(new HostTree());
    for (const [path, content] of files) {
      tree.create(path, edits[path] ?? content);
    }
    return tree;
  }

  function withProviders(providers: string, imports: string): Record<string, string> {
    return {
      [APP_CONFIG]: `import { ApplicationConfig, provideBrowserGlobalErrorListeners } from '@angular/core';
import { provideRouter } from '@angular/router';
${imports}
import { routes } from './app.routes';

export const appConfig: ApplicationConfig = {
  providers: [
    provideBrowserGlobalErrorListeners(),
    provideRouter(routes),
${providers}
  ]
};
`,
    };
  }

  function ngAdd(tree: UnitTestTree, options: Schema = {}): Promise<UnitTestTree> {
    return runner.runSchematic('ng-add', options, tree);
  }

  /** Parse errors of a TypeScript file: the edits must leave valid code behind. */
  function syntaxErrors(content: string): string[] {
    const output = ts.transpileModule(content, { reportDiagnostics: true });
    return (output.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  }

  function count(haystack: string, needle: string): number {
    return haystack.split(needle).length - 1;
  }

  function warnings(): string {
    return logs
      .filter((entry) => entry.level === 'warn')
      .map((entry) => entry.message)
      .join('\n');
  }

  beforeAll(async () => {
    [standalone, ngModule, twoApps, ssr] = await Promise.all([
      workspace([{ name: 'app', standalone: true }]),
      workspace([{ name: 'app', standalone: false }]),
      workspace([
        { name: 'app', standalone: true },
        { name: 'admin', standalone: true },
      ]),
      workspace([{ name: 'app', standalone: true, ssr: true }]),
    ]);
  });

  beforeEach(() => {
    logs = [];
  });

  it('sets up a standalone app made by ng new', async () => {
    const tree = await ngAdd(treeOf(standalone));

    expect(tree.readContent(APP_CONFIG))
      .toBe(`import { ApplicationConfig, provideBrowserGlobalErrorListeners } from '@angular/core';
import { provideRouter } from '@angular/router';

import { routes } from './app.routes';
import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { jotInterceptor, provideJot } from 'ngx-jot';

export const appConfig: ApplicationConfig = {
  providers: [
    provideBrowserGlobalErrorListeners(),
    provideRouter(routes),
    provideHttpClient(withInterceptors([jotInterceptor])),
    provideJot({ loginUrl: '/authenticate' })
  ]
};
`);
    expect(warnings()).toBe('');
  });

  it('adds ngx-jot (its own version) and jwt-decode to dependencies and schedules an install', async () => {
    const tree = await ngAdd(treeOf(standalone));

    const { dependencies } = JSON.parse(tree.readContent('/package.json'));
    expect(dependencies['ngx-jot']).toBe(`^${VERSION}`);
    expect(dependencies['jwt-decode']).toBe('^4.0.0');
    expect(runner.tasks.map((task) => task.name)).toContain('node-package');
  });

  it('keeps the specifier that ng add saved for ngx-jot (a tarball, a registry range)', async () => {
    const manifest = JSON.parse(standalone.get('/package.json')!);
    manifest.dependencies['ngx-jot'] = 'file:../ngx-jot-0.1.0.tgz';
    manifest.dependencies['jwt-decode'] = '^4.1.0';
    const tree = await ngAdd(treeOf(standalone, { '/package.json': JSON.stringify(manifest, null, 2) }));

    const { dependencies } = JSON.parse(tree.readContent('/package.json'));
    expect(dependencies['ngx-jot']).toBe('file:../ngx-jot-0.1.0.tgz');
    expect(dependencies['jwt-decode']).toBe('^4.1.0');
  });

  it('adds withInterceptors([jotInterceptor]) to an existing provideHttpClient()', async () => {
    const tree = await ngAdd(
      treeOf(
        standalone,
        withProviders('    provideHttpClient()', "import { provideHttpClient } from '@angular/common/http';\n"),
      ),
    );

    const config = tree.readContent(APP_CONFIG);
    expect(config).toContain('    provideHttpClient(withInterceptors([jotInterceptor])),\n');
    expect(count(config, 'provideHttpClient(')).toBe(1);
    expect(config).toContain("import { provideHttpClient, withInterceptors } from '@angular/common/http';");
    expect(config).toContain("import { jotInterceptor, provideJot } from 'ngx-jot';");
    expect(config).toContain("    provideJot({ loginUrl: '/authenticate' })\n  ]");
    expect(syntaxErrors(config)).toEqual([]);
  });

  it('adds jotInterceptor to an existing withInterceptors([...]) and keeps the other features', async () => {
    const tree = await ngAdd(
      treeOf(
        standalone,
        withProviders(
          '    provideHttpClient(withInterceptors([other]), withFetch())',
          "import { provideHttpClient, withFetch, withInterceptors } from '@angular/common/http';\n" +
            "import { other } from './other.interceptor';\n",
        ),
      ),
    );

    const config = tree.readContent(APP_CONFIG);
    expect(config).toContain('provideHttpClient(withInterceptors([other, jotInterceptor]), withFetch()),\n');
    expect(count(config, 'provideHttpClient(')).toBe(1);
    expect(count(config, 'withInterceptors(')).toBe(1);
    expect(count(config, 'jotInterceptor')).toBe(2); // the import and the registration
    expect(config).toContain("import { provideHttpClient, withFetch, withInterceptors } from '@angular/common/http';");
    expect(syntaxErrors(config)).toEqual([]);
  });

  it('keeps the layout of a multi-line interceptor list with a trailing comma', async () => {
    const tree = await ngAdd(
      treeOf(
        standalone,
        withProviders(
          '    provideHttpClient(\n      withInterceptors([\n        other,\n      ]),\n    )',
          "import { provideHttpClient, withInterceptors } from '@angular/common/http';\n" +
            "import { other } from './other.interceptor';\n",
        ),
      ),
    );

    const config = tree.readContent(APP_CONFIG);
    expect(config).toContain('      withInterceptors([\n        other,\n        jotInterceptor,\n      ]),\n    ),\n');
    expect(syntaxErrors(config)).toEqual([]);
  });

  it('adds withInterceptors([jotInterceptor]) next to other features of provideHttpClient', async () => {
    const tree = await ngAdd(
      treeOf(
        standalone,
        withProviders(
          '    provideHttpClient(withFetch())',
          "import { provideHttpClient, withFetch } from '@angular/common/http';\n",
        ),
      ),
    );

    const config = tree.readContent(APP_CONFIG);
    expect(config).toContain('provideHttpClient(withFetch(), withInterceptors([jotInterceptor])),\n');
    expect(config).toContain("import { provideHttpClient, withFetch, withInterceptors } from '@angular/common/http';");
    expect(syntaxErrors(config)).toEqual([]);
  });

  it('changes nothing on a second run', async () => {
    for (const edits of [
      {},
      withProviders(
        '    provideHttpClient(withInterceptors([other]), withFetch())',
        "import { provideHttpClient, withFetch, withInterceptors } from '@angular/common/http';\n" +
          "import { other } from './other.interceptor';\n",
      ),
    ]) {
      const once = snapshot(await ngAdd(treeOf(standalone, edits), { refreshUrl: '/refresh', storage: 'local' }));
      const tasksAfterFirstRun = runner.tasks.length;
      const twice = snapshot(await ngAdd(treeOf(once), { refreshUrl: '/refresh', storage: 'local' }));

      expect(tasksAfterFirstRun).toBeGreaterThan(0);
      expect(twice).toEqual(once);
      expect(runner.tasks).toEqual([]); // nothing new to install
    }
  });

  it('leaves an existing provideJot(...) as it is', async () => {
    const once = snapshot(await ngAdd(treeOf(standalone)));
    const twice = await ngAdd(treeOf(once), { loginUrl: '/other', refreshUrl: '/refresh' });

    expect(twice.readContent(APP_CONFIG)).toBe(once.get(APP_CONFIG));
    expect(logs.map((entry) => entry.message).join('\n')).toContain('already calls provideJot()');
  });

  it('fails on an NgModule app, changing nothing, with the exact lines to add', async () => {
    const tree = treeOf(ngModule);

    await expect(ngAdd(tree, { refreshUrl: '/refresh' })).rejects.toThrow(
      'ngx-jot: projects/app/src/main.ts does not call bootstrapApplication(), so ng add changed nothing and ' +
        'ngx-jot is NOT set up. Add this by hand to the providers of the root NgModule in ' +
        'projects/app/src/app/app-module.ts (merge into an existing provideHttpClient() rather than adding a ' +
        'second one):\n\n' +
        "    import { provideHttpClient, withInterceptors } from '@angular/common/http';\n" +
        "    import { jotInterceptor, provideJot, withRefresh } from 'ngx-jot';\n" +
        '\n' +
        '    providers: [\n' +
        '      provideHttpClient(withInterceptors([jotInterceptor])),\n' +
        "      provideJot({ loginUrl: '/authenticate' }, withRefresh({ url: '/refresh' })),\n" +
        '    ]\n',
    );
    expect(snapshot(tree)).toEqual(ngModule);
  });

  it('succeeds without a change on an NgModule app whose root module was set up by hand', async () => {
    const modulePath = '/projects/app/src/app/app-module.ts';
    const wired = ngModule
      .get(modulePath)!
      .replace(
        'providers: [',
        "providers: [\n    provideHttpClient(withInterceptors([jotInterceptor])),\n    provideJot({ loginUrl: '/authenticate' }),",
      )
      .replace(
        /^/,
        "import { provideHttpClient, withInterceptors } from '@angular/common/http';\nimport { jotInterceptor, provideJot } from 'ngx-jot';\n",
      );
    const files = snapshot(treeOf(ngModule, { [modulePath]: wired }));

    const tree = await ngAdd(treeOf(files));

    for (const [path, content] of files) {
      if (path !== '/package.json') expect(tree.readContent(path)).toBe(content);
    }
    expect(logs.map((entry) => entry.message).join('\n')).toContain('already registers jotInterceptor');
  });

  it('fails, changing nothing, on interceptors it cannot extend, with the lines to add', async () => {
    const tree = treeOf(
      standalone,
      withProviders(
        '    provideHttpClient(withInterceptors(interceptors))',
        "import { provideHttpClient, withInterceptors } from '@angular/common/http';\n" +
          "import { interceptors } from './interceptors';\n",
      ),
    );
    const before = snapshot(tree);

    await expect(ngAdd(tree)).rejects.toThrow(
      /the interceptors of provideHttpClient\(\) in projects\/app\/src\/app\/app.config.ts are not a plain array, so ng add changed nothing[^]*provideHttpClient\(withInterceptors\(\[jotInterceptor\]\)\),\n {6}provideJot\(\{ loginUrl: '\/authenticate' \}\),/,
    );
    expect(snapshot(tree)).toEqual(before);
  });

  describe('when TypeScript fails', () => {
    // Each test's mock is its own: the schematic requires TypeScript afresh on each run.
    beforeEach(() => {
      jest.resetModules();
    });

    afterEach(() => {
      jest.dontMock('typescript');
      jest.resetModules();
    });

    it('turns an unexpected failure into an ngx-jot error with the lines to add', async () => {
      jest.doMock('typescript', () => ({
        ...jest.requireActual<typeof ts>('typescript'),
        createSourceFile: () => {
          throw new Error('parser exploded');
        },
      }));

      await expect(ngAdd(treeOf(standalone))).rejects.toThrow(
        /^ngx-jot: ng add failed unexpectedly \(parser exploded\), so ng add changed nothing[^]*provideJot\(/,
      );
    });

    it('fails with a clear error when the app has no typescript to load', async () => {
      jest.doMock('typescript', () => {
        throw new Error("Cannot find module 'typescript'");
      });

      await expect(ngAdd(treeOf(standalone))).rejects.toThrow(/^ngx-jot: ng add needs the app's `typescript` package/);
    });
  });

  describe('@angular/ssr', () => {
    const SERVER_ROUTES = '/projects/app/src/app/app.routes.server.ts';

    it('renders the pages behind the guards in the browser, first in the server routes', async () => {
      const tree = await ngAdd(treeOf(ssr));

      expect(tree.readContent(SERVER_ROUTES)).toBe(
        ssr
          .get(SERVER_ROUTES)!
          .replace(
            "import { RenderMode, ServerRoute } from '@angular/ssr';",
            "import { RenderMode, ServerRoute } from '@angular/ssr';\n" +
              "import { jotProtectedPaths } from 'ngx-jot';\n" +
              "import { routes } from './app.routes';",
          )
          .replace(
            'ServerRoute[] = [\n',
            'ServerRoute[] = [\n' +
              '  // ngx-jot: pages behind its guards render in the browser, which holds the session.\n' +
              '  ...jotProtectedPaths(routes).map((path): ServerRoute => ({ path, renderMode: RenderMode.Client })),\n',
          ),
      );
      expect(syntaxErrors(tree.readContent(SERVER_ROUTES))).toEqual([]);
      expect(tree.readContent(APP_CONFIG)).toContain('provideJot(');
    });

    it('changes nothing on a second run', async () => {
      const once = snapshot(await ngAdd(treeOf(ssr)));
      const twice = snapshot(await ngAdd(treeOf(once)));

      expect(twice).toEqual(once);
    });

    it('imports the app routes from where the app config imports them', async () => {
      const tree = await ngAdd(
        treeOf(ssr, {
          [APP_CONFIG]: ssr.get(APP_CONFIG)!.replace("from './app.routes'", "from '../routing/app-routes'"),
        }),
      );

      expect(tree.readContent(SERVER_ROUTES)).toContain("import { routes } from '../routing/app-routes';");
    });

    it('gives the server routes line when it cannot tell where the routes come from', async () => {
      const edited = ssr.get(APP_CONFIG)!.replace('provideRouter(routes)', 'provideRouter([])');

      await expect(ngAdd(treeOf(ssr, { [APP_CONFIG]: edited }))).rejects.toThrow(
        /not an imported name[^]*\.\.\.jotProtectedPaths\(routes\)\.map\(\(path\): ServerRoute => \(\{ path, renderMode: RenderMode\.Client \}\)\),/,
      );
    });
  });

  it('adds the providers to main.ts when bootstrapApplication() has no config', async () => {
    const main = `import { bootstrapApplication } from '@angular/platform-browser';
import { App } from './app/app';

bootstrapApplication(App)
  .catch((err) => console.error(err));
`;
    const once = await ngAdd(treeOf(standalone, { [MAIN]: main }));
    const content = once.readContent(MAIN);

    expect(count(content, 'provideHttpClient(withInterceptors([jotInterceptor]))')).toBe(1);
    expect(count(content, "provideJot({ loginUrl: '/authenticate' })")).toBe(1);
    expect(syntaxErrors(content)).toEqual([]);
    expect(once.readContent(APP_CONFIG)).toBe(standalone.get(APP_CONFIG));
    const twice = await ngAdd(treeOf(snapshot(once)));
    expect(twice.readContent(MAIN)).toBe(content);
  });

  describe('options', () => {
    it('--login-url sets loginUrl', async () => {
      const tree = await ngAdd(treeOf(standalone), { loginUrl: '/api/auth/login' });

      expect(tree.readContent(APP_CONFIG)).toContain("provideJot({ loginUrl: '/api/auth/login' })");
    });

    it('--login-url is written as a safe string literal', async () => {
      const tree = await ngAdd(treeOf(standalone), { loginUrl: "/it's" });

      const config = tree.readContent(APP_CONFIG);
      expect(config).toContain("provideJot({ loginUrl: '/it\\'s' })");
      expect(syntaxErrors(config)).toEqual([]);
    });

    it('--refresh-url adds withRefresh({ url })', async () => {
      const tree = await ngAdd(treeOf(standalone), { refreshUrl: '/api/auth/refresh' });

      const config = tree.readContent(APP_CONFIG);
      expect(config).toContain("provideJot({ loginUrl: '/authenticate' }, withRefresh({ url: '/api/auth/refresh' }))");
      expect(config).toContain("import { jotInterceptor, provideJot, withRefresh } from 'ngx-jot';");
    });

    it('adds neither withRefresh nor withStorage without --refresh-url and --storage', async () => {
      const config = (await ngAdd(treeOf(standalone))).readContent(APP_CONFIG);

      expect(config).not.toContain('withRefresh');
      expect(config).not.toContain('withStorage');
    });

    it.each(['session', 'local', 'memory'] as const)('--storage %s adds withStorage', async (storage) => {
      const tree = await ngAdd(treeOf(standalone), { storage, refreshUrl: '/refresh' });

      const config = tree.readContent(APP_CONFIG);
      expect(config).toContain(
        `provideJot({ loginUrl: '/authenticate' }, withRefresh({ url: '/refresh' }), withStorage('${storage}'))`,
      );
      expect(config).toContain("import { jotInterceptor, provideJot, withRefresh, withStorage } from 'ngx-jot';");
    });

    it('rejects a --storage outside the schema', async () => {
      await expect(ngAdd(treeOf(standalone), { storage: 'cookie' as Schema['storage'] })).rejects.toThrow(/storage/);
    });

    it('--project picks the application to set up', async () => {
      const tree = await ngAdd(treeOf(twoApps), { project: 'admin' });

      expect(tree.readContent('/projects/admin/src/app/app.config.ts')).toContain('provideJot(');
      expect(tree.readContent(APP_CONFIG)).toBe(twoApps.get(APP_CONFIG));
    });

    it('without --project and several applications, fails, changing nothing, and says to pass it', async () => {
      const tree = treeOf(twoApps);

      await expect(ngAdd(tree)).rejects.toThrow(/several applications \(app, admin\).*pass --project <name>/);
      expect(snapshot(tree)).toEqual(twoApps);
    });

    it('fails with the known project names for an unknown --project', async () => {
      await expect(ngAdd(treeOf(twoApps), { project: 'nope' })).rejects.toThrow(
        /no project "nope".*app, admin|admin, app/,
      );
    });
  });
});
