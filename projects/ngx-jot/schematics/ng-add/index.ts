import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';

import { Rule, SchematicContext, SchematicsException, Tree, chain } from '@angular-devkit/schematics';
import { ExistingBehavior, addDependency, addRootProvider, readWorkspace } from '@schematics/angular/utility';
import type * as TS from 'typescript';

import type { Schema } from './schema';

const HTTP = '@angular/common/http';
const JOT = 'ngx-jot';
const SSR = '@angular/ssr';
const JWT_DECODE_RANGE = '^4.0.0';

/**
 * The app's own `typescript` (every Angular CLI app has one). Loaded when the schematic runs, not
 * when the CLI loads it: Angular CLI 22 swallows load errors and reports "the package does not
 * provide any `ng add` actions", where a missing compiler must be a clear error.
 */
let ts: typeof TS;

function loadTypeScript(): typeof TS {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved from the app at run time, see above.
    return require('typescript') as typeof TS;
  } catch (error) {
    throw new SchematicsException(
      `ngx-jot: ng add needs the app's \`typescript\` package to edit its sources, and it could not be loaded ` +
        `(${String(error)}). Install the dependencies of the app (npm install), then run \`ng add ngx-jot\` again.`,
    );
  }
}

/**
 * `ng add ngx-jot`: adds the dependencies and, in a standalone application,
 * `provideHttpClient(withInterceptors([jotInterceptor]))` and `provideJot(...)` to the root
 * providers; in an `@angular/ssr` app, the server routes render the pages behind ngx-jot's
 * guards in the browser. Running it again changes nothing.
 *
 * It either does all of that or changes nothing and fails (non-zero exit) with the exact lines to
 * add by hand: an NgModule app, a config it cannot analyse, an unexpected error. `ng add` never
 * reports success for an app it did not set up.
 */
export default function ngAdd(options: Schema): Rule {
  return async (tree: Tree, context: SchematicContext) => {
    ts = loadTypeScript();
    const project = await resolveProject(tree, options.project);
    let setUp: Rule;
    try {
      setUp = await planSetup(tree, context, project, options);
    } catch (error) {
      if (error instanceof SchematicsException) throw error;
      throw new SchematicsException(
        manualSteps(
          options,
          `ng add failed unexpectedly (${error instanceof Error ? error.message : String(error)})`,
          'your root providers',
          ALL,
        ),
      );
    }
    return chain([
      // `Skip`: `ng add` has already saved its own specifier (a registry range, or a tarball
      // path that a `^x.y.z` range would send the install task to the registry for).
      addDependency(JOT, `^${ownVersion()}`, { existing: ExistingBehavior.Skip }),
      addDependency('jwt-decode', JWT_DECODE_RANGE, { existing: ExistingBehavior.Skip }),
      setUp,
    ]);
  };
}

/** The version of the ngx-jot package this schematic ships in. */
function ownVersion(): string {
  // Same relative path from `schematics/ng-add/` in the sources and in the published package.
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
  return manifest.version as string;
}

/**
 * The application to edit: `--project`, else the only application of the workspace. Fails with
 * the manual steps when there is none to choose.
 */
async function resolveProject(tree: Tree, requested: string | undefined): Promise<Project> {
  const workspace = await readWorkspace(tree);
  const asProject = (name: string): Project => {
    const definition = workspace.projects.get(name)!;
    const build = definition.targets.get('build')?.options ?? {};
    const main = build['browser'] ?? build['main'];
    return {
      name,
      sourceRoot: definition.sourceRoot ?? posix.join(definition.root, 'src'),
      mainPath: typeof main === 'string' ? main : null,
    };
  };
  if (requested) {
    const project = workspace.projects.get(requested);
    if (!project) {
      throw new SchematicsException(
        `ngx-jot: there is no project "${requested}" in angular.json; pass --project <name> ` +
          `with one of: ${[...workspace.projects.keys()].join(', ')}.`,
      );
    }
    if (project.extensions['projectType'] !== 'application') {
      throw new SchematicsException(
        `ngx-jot: "${requested}" is not an application; pass --project <name> with one of: ` +
          `${applicationsOf(workspace).join(', ') || '(none)'}.`,
      );
    }
    return asProject(requested);
  }
  const applications = applicationsOf(workspace);
  if (applications.length !== 1) {
    throw new SchematicsException(
      applications.length
        ? `ngx-jot: the workspace has several applications (${applications.join(', ')}), so nothing was ` +
            `changed; pass --project <name> to choose one.`
        : 'ngx-jot: the workspace has no application to set up, so nothing was changed.',
    );
  }
  return asProject(applications[0]);
}

function applicationsOf(workspace: Awaited<ReturnType<typeof readWorkspace>>): string[] {
  return [...workspace.projects.entries()]
    .filter(([, project]) => project.extensions['projectType'] === 'application')
    .map(([name]) => name);
}

interface Project {
  name: string;
  sourceRoot: string;
  /** The build target's main (`browser`) file, relative to the workspace root. */
  mainPath: string | null;
}

interface ManualParts {
  http: boolean;
  jot: boolean;
  /** The server routes file to give the line for the protected pages, when it is needed. */
  serverRoutes?: string;
}

const ALL: ManualParts = { http: true, jot: true };

/** A step the schematic cannot take safely: why, where, and which parts. */
class ManualSetup extends Error {
  constructor(
    readonly reason: string,
    readonly where: string,
    readonly parts: ManualParts = ALL,
  ) {
    super(reason);
  }
}

/**
 * Reads the app and returns the rule that wires it, or throws the manual steps. Nothing is
 * changed here, so a failure leaves the app as it was.
 */
async function planSetup(tree: Tree, context: SchematicContext, project: Project, options: Schema): Promise<Rule> {
  try {
    return await planStandalone(tree, context, project, options);
  } catch (error) {
    if (!(error instanceof ManualSetup)) throw error;
    // An SSR app whose providers need a hand gets the line for its server routes too.
    const unwiredServerRoutes = findServerRoutes(tree, project.sourceRoot).filter(
      ({ source }) => findCalls(source, 'jotProtectedPaths', JOT).length === 0,
    );
    const parts = { serverRoutes: unwiredServerRoutes[0]?.source.fileName, ...error.parts };
    if (parts.http && parts.jot && !parts.serverRoutes && isWiredByHand(tree, error.where)) {
      // Set up by hand after an earlier run printed the steps: a second `ng add` changes nothing.
      context.logger.info(`ngx-jot: ${error.where} already registers jotInterceptor and calls provideJot().`);
      return () => undefined;
    }
    throw new SchematicsException(manualSteps(options, error.reason, error.where, parts));
  }
}

async function planStandalone(tree: Tree, context: SchematicContext, project: Project, options: Schema): Promise<Rule> {
  const mainPath = project.mainPath;
  if (!mainPath) {
    throw new ManualSetup(`project "${project.name}" has no build target with a main file`, 'your root providers');
  }
  if (!tree.exists(mainPath)) {
    throw new ManualSetup(`the main file of "${project.name}" (${mainPath}) was not found`, 'your root providers');
  }
  const main = parse(tree, mainPath);
  const bootstrapCall = findCalls(main, 'bootstrapApplication', '@angular/platform-browser')[0];
  if (!bootstrapCall) {
    // Inserting into an NgModule's metadata is possible but easy to get wrong for custom
    // modules, and those apps are a minority: hand the user the exact lines instead.
    throw new ManualSetup(`${mainPath} does not call bootstrapApplication()`, rootModuleOf(tree, main));
  }

  if (bootstrapCall.arguments.length === 1) {
    // `bootstrapApplication(App)`: addRootProvider creates the config object in main.ts.
    return chain([
      addProvider(project.name, mainPath, httpProvider),
      addProvider(project.name, mainPath, jotProvider(options)),
    ]);
  }
  const appConfig = findAppConfig(tree, main, bootstrapCall);
  if (!appConfig) {
    throw new ManualSetup(
      `the application config passed to bootstrapApplication() in ${mainPath} cannot be analysed`,
      mainPath,
    );
  }
  const { source, node: config } = appConfig;
  const filePath = source.fileName;
  if (
    config.properties.some(ts.isSpreadAssignment) ||
    (config.properties.some((p) => propertyNameText(p.name) === 'providers') && !findProvidersLiteral(config))
  ) {
    throw new ManualSetup(`the providers of the application config in ${filePath} are not a plain array`, filePath);
  }

  const rules: Rule[] = [];
  const httpCalls = findCalls(source, 'provideHttpClient', HTTP);
  if (httpCalls.length === 0) {
    rules.push(addProvider(project.name, mainPath, httpProvider));
  } else if (httpCalls.some((call) => hasJotInterceptor(source, call))) {
    context.logger.info(`ngx-jot: ${filePath} already registers jotInterceptor.`);
  } else if (httpCalls.length === 1 && interceptorList(source, httpCalls[0]) !== null) {
    rules.push((current: Tree) => {
      const config = parse(current, filePath);
      mergeInterceptor(current, config, findCalls(config, 'provideHttpClient', HTTP)[0]);
      context.logger.info(`ngx-jot: added jotInterceptor to the existing provideHttpClient() in ${filePath}.`);
    });
  } else {
    throw new ManualSetup(
      httpCalls.length === 1
        ? `the interceptors of provideHttpClient() in ${filePath} are not a plain array`
        : `${filePath} calls provideHttpClient() more than once`,
      filePath,
    );
  }

  if (findCalls(source, 'provideJot', JOT).length === 0) {
    rules.push(addProvider(project.name, mainPath, jotProvider(options)));
  } else {
    context.logger.info(`ngx-jot: ${filePath} already calls provideJot(); its options are left as they are.`);
  }
  const serverRoutes = planServerRoutes(tree, context, project, source);
  if (serverRoutes) rules.push(serverRoutes);
  return chain(rules);
}

// ---- @angular/ssr: the server routes ----

/** The line that makes the pages behind ngx-jot's guards render in the browser. */
const CLIENT_RENDERED =
  '...jotProtectedPaths(routes).map((path): ServerRoute => ({ path, renderMode: RenderMode.Client })),';

/**
 * In an `@angular/ssr` app (one with server routes), the rule that puts the pages behind
 * ngx-jot's guards first in the server routes, as `RenderMode.Client`: the server has no browser
 * session, so it can neither render them nor decide where to send the visitor (a guard's `false`
 * is a 404 there, and prerendering one fails the build). `null` when there is nothing to do.
 */
function planServerRoutes(
  tree: Tree,
  context: SchematicContext,
  project: Project,
  appConfig: TS.SourceFile,
): Rule | null {
  const candidates = findServerRoutes(tree, project.sourceRoot);
  if (candidates.length === 0) return null;
  if (candidates.length > 1) {
    throw new ManualSetup(
      `${project.sourceRoot} declares server routes in more than one place (${candidates
        .map((c) => c.source.fileName)
        .join(', ')})`,
      'your server routes',
      { http: false, jot: false, serverRoutes: 'the server routes of the app' },
    );
  }
  const [{ source, list }] = candidates;
  const filePath = source.fileName;
  if (findCalls(source, 'jotProtectedPaths', JOT).length > 0) {
    context.logger.info(`ngx-jot: ${filePath} already renders the protected pages in the browser.`);
    return null;
  }
  const routes = routerRoutes(appConfig);
  if (routes === 'none') return null; // no router, so no guarded route to render
  if (routes === 'unknown') {
    throw new ManualSetup(
      `the routes passed to provideRouter() in ${appConfig.fileName} are not an imported name`,
      filePath,
      { http: false, jot: false, serverRoutes: filePath },
    );
  }
  // The routes module, as the server routes file must import it.
  let routesModule = routes.module;
  if (routesModule.startsWith('.')) {
    const absolute = posix.join(posix.dirname(appConfig.fileName), routesModule);
    routesModule = posix.relative(posix.dirname(filePath), absolute);
    if (!routesModule.startsWith('.')) routesModule = `./${routesModule}`;
  }
  return (current: Tree) => {
    const first = list.elements[0];
    const comment = `// ngx-jot: pages behind its guards render in the browser, which holds the session.`;
    let insertion: string;
    if (first && startsLine(source.text, first.getStart(source))) {
      // One element per line: the new one opens the list, on its own lines, indented alike.
      const eol = source.text.includes('\r\n') ? '\r\n' : '\n';
      const indent = indentationOf(source.text, first.getStart(source));
      insertion = `${eol}${indent}${comment}${eol}${indent}${CLIENT_RENDERED}`;
    } else {
      insertion = first ? `${CLIENT_RENDERED} ` : CLIENT_RENDERED.slice(0, -1);
    }
    insertAt(current, filePath, { position: list.getStart(source) + 1, text: insertion });
    addImports(current, filePath, [
      ['jotProtectedPaths', JOT],
      ['RenderMode', SSR],
      ['ServerRoute', SSR],
      [routes.name, routesModule],
    ]);
    context.logger.info(`ngx-jot: ${filePath} renders the pages behind ngx-jot's guards in the browser.`);
  };
}

/** Every top-level `ServerRoute[]` array of the project's sources (normally in app.routes.server.ts). */
function findServerRoutes(
  tree: Tree,
  sourceRoot: string,
): Array<{ source: TS.SourceFile; list: TS.ArrayLiteralExpression }> {
  const found: Array<{ source: TS.SourceFile; list: TS.ArrayLiteralExpression }> = [];
  tree.getDir(sourceRoot).visit((path) => {
    if (!path.endsWith('.ts') || path.endsWith('.spec.ts')) return;
    const text = tree.read(path)?.toString('utf-8') ?? '';
    if (!text.includes(SSR) || !text.includes('ServerRoute')) return;
    const source = parse(tree, path.replace(/^\//, ''));
    for (const statement of source.statements) {
      if (!ts.isVariableStatement(statement)) continue;
      for (const declaration of statement.declarationList.declarations) {
        const type = declaration.type;
        const initializer = declaration.initializer && unwrap(declaration.initializer);
        if (
          type &&
          ts.isArrayTypeNode(type) &&
          ts.isTypeReferenceNode(type.elementType) &&
          type.elementType.typeName.getText(source) === localName(source, 'ServerRoute', SSR) &&
          initializer &&
          ts.isArrayLiteralExpression(initializer)
        ) {
          found.push({ source, list: initializer });
        }
      }
    }
  });
  return found;
}

/** The `routes` given to `provideRouter(routes)`: its name and module. */
function routerRoutes(appConfig: TS.SourceFile): { name: string; module: string } | 'none' | 'unknown' {
  const call = findCalls(appConfig, 'provideRouter', '@angular/router')[0];
  if (!call) return 'none';
  const routes = call.arguments[0];
  if (!routes || !ts.isIdentifier(routes)) return 'unknown';
  const imported = importOf(appConfig, routes.text);
  return imported && imported.name === routes.text ? imported : 'unknown';
}

// ---- NgModule apps ----

/** Where an NgModule app's root providers go, for the manual steps. */
function rootModuleOf(tree: Tree, main: TS.SourceFile): string {
  let bootstrapModule: TS.CallExpression | undefined;
  const visit = (node: TS.Node): void => {
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      node.expression.name.text === 'bootstrapModule'
    ) {
      bootstrapModule = node;
    }
    node.forEachChild(visit);
  };
  main.forEachChild(visit);
  const module = bootstrapModule?.arguments[0];
  if (!module) return `the root providers of the app started in ${main.fileName}`;
  const imported = ts.isIdentifier(module) ? importOf(main, module.text) : null;
  const modulePath = imported?.module.startsWith('.') ? resolveModule(tree, main.fileName, imported.module) : null;
  return modulePath ? `the providers of the root NgModule in ${modulePath}` : 'the providers of your root NgModule';
}

/** A file the manual steps pointed at that already has both providers: the user did them. */
function isWiredByHand(tree: Tree, where: string): boolean {
  const path = /[\w./-]+\.ts$/.exec(where)?.[0];
  if (!path || !tree.exists(path)) return false;
  const source = parse(tree, path);
  return (
    findCalls(source, 'provideJot', JOT).length > 0 &&
    findCalls(source, 'provideHttpClient', HTTP).some((call) => hasJotInterceptor(source, call))
  );
}

// ---- providers ----

/** Returns the name to write for `symbol`, and makes sure it is imported from `module`. */
type SymbolRef = (symbol: string, module: string) => string;

/** Code of one root provider, written against a {@link SymbolRef}. */
type ProviderCode = (ref: SymbolRef) => string;

const httpProvider: ProviderCode = (ref) =>
  `${ref('provideHttpClient', HTTP)}(${ref('withInterceptors', HTTP)}([${ref('jotInterceptor', JOT)}]))`;

function jotProvider(options: Schema): ProviderCode {
  return (ref) => {
    // Referenced first so that imports list provideJot before its features.
    const provideJot = ref('provideJot', JOT);
    const args = [jotConfigLiteral(options)];
    if (options.refreshUrl) {
      args.push(`${ref('withRefresh', JOT)}({ url: ${quote(options.refreshUrl)} })`);
    }
    if (options.storage) {
      args.push(`${ref('withStorage', JOT)}(${quote(options.storage)})`);
    }
    return `${provideJot}(${args.join(', ')})`;
  };
}

/**
 * Adds a root provider. Into an existing `providers: [...]` literal it appends the provider the
 * way the list is laid out (addRootProvider would put it on the line of the last provider);
 * everywhere else, and when an imported name would clash with one the file already has,
 * `addRootProvider` does the work (it creates the config or the array, and aliases imports).
 */
function addProvider(project: string, mainPath: string, provider: ProviderCode): Rule {
  return (tree: Tree) => {
    const main = parse(tree, mainPath);
    const bootstrapCall = findCalls(main, 'bootstrapApplication', '@angular/platform-browser')[0];
    const appConfig = bootstrapCall && findAppConfig(tree, main, bootstrapCall);
    const providers = appConfig && findProvidersLiteral(appConfig.node);
    const imports: Array<[string, string]> = [];
    const expression = provider((symbol, module) => {
      imports.push([symbol, module]);
      return symbol;
    });
    if (
      !appConfig ||
      !providers ||
      imports.some(([symbol, module]) => hasTopLevelIdentifier(appConfig.source, symbol, module))
    ) {
      return addRootProvider(project, ({ code, external }) => code`${provider(external)}`);
    }
    const { source } = appConfig;
    insertAt(
      tree,
      source.fileName,
      appendToList(source, providers.elements, providers.getStart(source) + 1, expression),
    );
    addImports(tree, source.fileName, imports);
    return undefined;
  };
}

/** The interceptors array of a `provideHttpClient(...)` call: `[]` without `withInterceptors`, `null` when not a literal. */
function interceptorList(source: TS.SourceFile, call: TS.CallExpression): TS.NodeArray<TS.Expression> | [] | null {
  const withInterceptors = findFeature(source, call, 'withInterceptors');
  if (!withInterceptors) return [];
  const list = withInterceptors.arguments[0];
  return withInterceptors.arguments.length === 1 && ts.isArrayLiteralExpression(list) ? list.elements : null;
}

/**
 * Registers `jotInterceptor` in an existing `provideHttpClient(...)` call: into its
 * `withInterceptors([...])`, or as a new `withInterceptors([jotInterceptor])` feature.
 * (`interceptorList` has checked that the list is an array literal.)
 */
function mergeInterceptor(tree: Tree, source: TS.SourceFile, call: TS.CallExpression): void {
  const filePath = source.fileName;
  const withInterceptors = findFeature(source, call, 'withInterceptors');
  const jotInterceptor = localName(source, 'jotInterceptor', JOT);
  if (withInterceptors) {
    const list = withInterceptors.arguments[0] as TS.ArrayLiteralExpression;
    insertAt(tree, filePath, appendToList(source, list.elements, list.getStart(source) + 1, jotInterceptor));
    addImports(tree, filePath, [['jotInterceptor', JOT]]);
  } else {
    const feature = `${localName(source, 'withInterceptors', HTTP)}([${jotInterceptor}])`;
    insertAt(tree, filePath, appendToList(source, call.arguments, call.arguments.pos, feature));
    addImports(tree, filePath, [
      ['withInterceptors', HTTP],
      ['jotInterceptor', JOT],
    ]);
  }
}

// ---- source editing (one TypeScript: the app's) ----

function parse(tree: Tree, path: string): TS.SourceFile {
  const text = tree.read(path)?.toString('utf-8');
  if (text === undefined) throw new SchematicsException(`ngx-jot: ${path} could not be read.`);
  return ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
}

interface Insertion {
  position: number;
  text: string;
}

function insertAt(tree: Tree, filePath: string, insertion: Insertion | null): void {
  if (!insertion) return;
  const recorder = tree.beginUpdate(filePath);
  recorder.insertRight(insertion.position, insertion.text);
  tree.commitUpdate(recorder);
}

/** Imports each symbol unless the file already imports it; one parse per symbol, so that a
 * second symbol from one module joins the import declaration added for the first. */
function addImports(tree: Tree, filePath: string, imports: Array<[string, string]>): void {
  for (const [symbol, module] of imports) {
    insertAt(tree, filePath, importInsertion(parse(tree, filePath), symbol, module));
  }
}

/** Where and what to insert so that `symbol` is imported from `module`; `null` when it is. */
function importInsertion(source: TS.SourceFile, symbol: string, module: string): Insertion | null {
  const imports = source.statements.filter(ts.isImportDeclaration);
  for (const declaration of imports) {
    if (!ts.isStringLiteral(declaration.moduleSpecifier) || declaration.moduleSpecifier.text !== module) continue;
    const bindings = declaration.importClause?.namedBindings;
    if (!bindings || !ts.isNamedImports(bindings) || declaration.importClause?.isTypeOnly) continue;
    if (bindings.elements.some((element) => (element.propertyName ?? element.name).text === symbol)) return null;
    const last = bindings.elements[bindings.elements.length - 1];
    return last
      ? { position: last.getEnd(), text: `, ${symbol}` }
      : { position: bindings.getStart(source) + 1, text: ` ${symbol} ` };
  }
  const line = `import { ${symbol} } from '${module}';`;
  const eol = source.text.includes('\r\n') ? '\r\n' : '\n';
  return imports.length
    ? { position: imports[imports.length - 1].getEnd(), text: `${eol}${line}` }
    : { position: 0, text: `${line}${eol}` };
}

/**
 * Appends `text` as the last element of a comma-separated list (call arguments or array
 * elements), keeping the list's layout: one line stays one line, one element per line gets a
 * new line with the same indentation, and a trailing comma stays trailing.
 */
function appendToList(
  source: TS.SourceFile,
  list: TS.NodeArray<TS.Node>,
  emptyListPos: number,
  text: string,
): Insertion {
  if (list.length === 0) {
    return { position: emptyListPos, text };
  }
  const last = list[list.length - 1];
  const lastStart = last.getStart(source);
  // The last element opening its own line means one element per line.
  const separator = startsLine(source.text, lastStart)
    ? `${source.text.includes('\r\n') ? '\r\n' : '\n'}${indentationOf(source.text, lastStart)}`
    : ' ';
  if (list.hasTrailingComma) {
    const comma = source.text.indexOf(',', last.getEnd());
    return { position: comma + 1, text: `${separator}${text},` };
  }
  return { position: last.getEnd(), text: `,${separator}${text}` };
}

/** The whitespace before `position` on its line. */
function indentationOf(text: string, position: number): string {
  const lineStart = text.lastIndexOf('\n', position - 1) + 1;
  return text.slice(lineStart, position).replace(/\S.*$/, '');
}

/** Is `position` the first non-blank character of its line? */
function startsLine(text: string, position: number): boolean {
  const lineStart = text.lastIndexOf('\n', position - 1) + 1;
  return text.slice(lineStart, position).trim() === '';
}

// ---- source reading ----

/** The object literal given to `bootstrapApplication(App, config)`, inline or imported. */
function findAppConfig(
  tree: Tree,
  main: TS.SourceFile,
  bootstrapCall: TS.CallExpression,
): { source: TS.SourceFile; node: TS.ObjectLiteralExpression } | null {
  const argument = bootstrapCall.arguments[1] && unwrap(bootstrapCall.arguments[1]);
  if (!argument) return null;
  if (ts.isObjectLiteralExpression(argument)) return { source: main, node: argument };
  if (!ts.isIdentifier(argument)) return null;
  const imported = importOf(main, argument.text);
  if (!imported) return declaredObject(main, argument.text);
  if (!imported.module.startsWith('.')) return null;
  const path = resolveModule(tree, main.fileName, imported.module);
  return path ? declaredObject(parse(tree, path), imported.name) : null;
}

/** The object literal a top-level `const name = {...}` of the file holds. */
function declaredObject(
  source: TS.SourceFile,
  name: string,
): { source: TS.SourceFile; node: TS.ObjectLiteralExpression } | null {
  for (const statement of source.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    for (const declaration of statement.declarationList.declarations) {
      const initializer = declaration.initializer && unwrap(declaration.initializer);
      if (ts.isIdentifier(declaration.name) && declaration.name.text === name && initializer) {
        return ts.isObjectLiteralExpression(initializer) ? { source, node: initializer } : null;
      }
    }
  }
  return null;
}

/** `x as T`, `x satisfies T`, `(x)` → `x`. */
function unwrap(expression: TS.Expression): TS.Expression {
  while (
    ts.isAsExpression(expression) ||
    ts.isSatisfiesExpression(expression) ||
    ts.isParenthesizedExpression(expression)
  ) {
    expression = expression.expression;
  }
  return expression;
}

/** The file a relative module specifier of `fromPath` names. */
function resolveModule(tree: Tree, fromPath: string, specifier: string): string | null {
  const base = posix.join(posix.dirname(fromPath), specifier);
  return [`${base}.ts`, `${base}/index.ts`, base].find((path) => tree.exists(path)) ?? null;
}

/** The providers array literal of an application config. */
function findProvidersLiteral(config: TS.ObjectLiteralExpression): TS.ArrayLiteralExpression | null {
  for (const property of config.properties) {
    if (
      ts.isPropertyAssignment(property) &&
      propertyNameText(property.name) === 'providers' &&
      ts.isArrayLiteralExpression(unwrap(property.initializer))
    ) {
      return unwrap(property.initializer) as TS.ArrayLiteralExpression;
    }
  }
  return null;
}

/** The module and exported name behind a name imported into the file. */
function importOf(source: TS.SourceFile, local: string): { name: string; module: string } | null {
  for (const statement of source.statements) {
    const bindings = ts.isImportDeclaration(statement) ? statement.importClause?.namedBindings : undefined;
    if (
      !bindings ||
      !ts.isNamedImports(bindings) ||
      !ts.isStringLiteral((statement as TS.ImportDeclaration).moduleSpecifier)
    ) {
      continue;
    }
    for (const element of bindings.elements) {
      if (element.name.text === local) {
        return {
          name: (element.propertyName ?? element.name).text,
          module: ((statement as TS.ImportDeclaration).moduleSpecifier as TS.StringLiteral).text,
        };
      }
    }
  }
  return null;
}

/** The local name under which `symbol` is imported from `module`, else `symbol` itself. */
function localName(source: TS.SourceFile, symbol: string, module: string): string {
  for (const statement of source.statements) {
    const bindings = ts.isImportDeclaration(statement) ? statement.importClause?.namedBindings : undefined;
    const specifier = ts.isImportDeclaration(statement) ? statement.moduleSpecifier : undefined;
    if (
      bindings &&
      ts.isNamedImports(bindings) &&
      specifier &&
      ts.isStringLiteral(specifier) &&
      specifier.text === module
    ) {
      for (const element of bindings.elements) {
        if ((element.propertyName ?? element.name).text === symbol) {
          return element.name.text;
        }
      }
    }
  }
  return symbol;
}

/** Does the file have a top-level `name` that is not `symbol` imported from `module`? */
function hasTopLevelIdentifier(source: TS.SourceFile, symbol: string, module: string): boolean {
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      const specifier = ts.isStringLiteral(statement.moduleSpecifier) ? statement.moduleSpecifier.text : '';
      if (clause?.name?.text === symbol) return true;
      const bindings = clause?.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings) && bindings.name.text === symbol) return true;
      if (bindings && ts.isNamedImports(bindings)) {
        for (const element of bindings.elements) {
          if (
            element.name.text === symbol &&
            (specifier !== module || (element.propertyName ?? element.name).text !== symbol)
          ) {
            return true;
          }
        }
      }
    } else if (ts.isVariableStatement(statement)) {
      if (statement.declarationList.declarations.some((d) => ts.isIdentifier(d.name) && d.name.text === symbol))
        return true;
    } else if (
      (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement) || ts.isEnumDeclaration(statement)) &&
      statement.name?.text === symbol
    ) {
      return true;
    }
  }
  return false;
}

/** Every call of `symbol` (imported from `module`) anywhere in the file. */
function findCalls(source: TS.SourceFile, symbol: string, module: string): TS.CallExpression[] {
  const name = localName(source, symbol, module);
  const calls: TS.CallExpression[] = [];
  const visit = (node: TS.Node): void => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === name) {
      calls.push(node);
    }
    node.forEachChild(visit);
  };
  source.forEachChild(visit);
  return calls;
}

/** The `withX(...)` feature argument of a `provideHttpClient(...)` call, if any. */
function findFeature(source: TS.SourceFile, call: TS.CallExpression, feature: string): TS.CallExpression | undefined {
  const name = localName(source, feature, HTTP);
  return call.arguments.find(
    (arg): arg is TS.CallExpression =>
      ts.isCallExpression(arg) && ts.isIdentifier(arg.expression) && arg.expression.text === name,
  );
}

function hasJotInterceptor(source: TS.SourceFile, call: TS.CallExpression): boolean {
  const list = interceptorList(source, call);
  const name = localName(source, 'jotInterceptor', JOT);
  return !!list && list.some((element) => ts.isIdentifier(element) && element.text === name);
}

function propertyNameText(name: TS.PropertyName | undefined): string | undefined {
  return name && (ts.isIdentifier(name) || ts.isStringLiteral(name)) ? name.text : undefined;
}

// ---- messages ----

/** `{ loginUrl: '...' }`, the first argument of `provideJot`. */
function jotConfigLiteral(options: Schema): string {
  return `{ loginUrl: ${quote(options.loginUrl ?? '/authenticate')} }`;
}

/** A single-quoted TypeScript string literal. */
function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

/** The error message: why nothing was changed, and the lines to add by hand, ready to paste. */
function manualSteps(options: Schema, reason: string, where: string, parts: ManualParts): string {
  const jotSymbols = [
    ...(parts.http ? ['jotInterceptor'] : []),
    ...(parts.jot ? ['provideJot'] : []),
    ...(parts.jot && options.refreshUrl ? ['withRefresh'] : []),
    ...(parts.jot && options.storage ? ['withStorage'] : []),
  ];
  const features = [
    ...(options.refreshUrl ? [`withRefresh({ url: ${quote(options.refreshUrl)} })`] : []),
    ...(options.storage ? [`withStorage(${quote(options.storage)})`] : []),
  ];
  const indent = (lines: string[]) => lines.map((line) => (line ? `    ${line}` : '')).join('\n');
  let message = `ngx-jot: ${reason}, so ng add changed nothing and ngx-jot is NOT set up.`;
  if (parts.http || parts.jot) {
    message +=
      ` Add this by hand to ${where}` +
      (parts.http ? ' (merge into an existing provideHttpClient() rather than adding a second one)' : '') +
      ':\n\n' +
      indent([
        ...(parts.http ? [`import { provideHttpClient, withInterceptors } from '${HTTP}';`] : []),
        `import { ${jotSymbols.join(', ')} } from '${JOT}';`,
        '',
        'providers: [',
        ...(parts.http ? ['  provideHttpClient(withInterceptors([jotInterceptor])),'] : []),
        ...(parts.jot ? [`  provideJot(${[jotConfigLiteral(options), ...features].join(', ')}),`] : []),
        ']',
      ]) +
      '\n';
  }
  if (parts.serverRoutes) {
    message +=
      `\nWith @angular/ssr, put the pages behind ngx-jot's guards first in ${parts.serverRoutes} ` +
      '(import your app routes as `routes`):\n\n' +
      indent([
        `import { RenderMode, ServerRoute } from '${SSR}';`,
        `import { jotProtectedPaths } from '${JOT}';`,
        '',
        'export const serverRoutes: ServerRoute[] = [',
        `  ${CLIENT_RENDERED}`,
        '  ...',
        '];',
      ]) +
      '\n';
  }
  return message;
}
