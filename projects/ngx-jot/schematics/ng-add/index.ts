import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { Rule, SchematicContext, SchematicsException, Tree, chain } from '@angular-devkit/schematics';
import ts from '@schematics/angular/third_party/github.com/Microsoft/TypeScript/lib/typescript';
import { ExistingBehavior, addDependency, addRootProvider, readWorkspace } from '@schematics/angular/utility';
import { hasTopLevelIdentifier, insertImport } from '@schematics/angular/utility/ast-utils';
import { Change, InsertChange, applyToUpdateRecorder } from '@schematics/angular/utility/change';
import { getEOL } from '@schematics/angular/utility/eol';
import { findBootstrapModuleCall, getAppModulePath } from '@schematics/angular/utility/ng-ast-utils';
import { findAppConfig } from '@schematics/angular/utility/standalone/app_config';
import {
  findBootstrapApplicationCall,
  findProvidersLiteral,
  getMainFilePath,
  getSourceFile,
} from '@schematics/angular/utility/standalone/util';

import type { Schema } from './schema';

const HTTP = '@angular/common/http';
const JOT = 'ngx-jot';
const JWT_DECODE_RANGE = '^4.0.0';

/**
 * `ng add ngx-jot`: adds the dependencies and, in a standalone application,
 * `provideHttpClient(withInterceptors([jotInterceptor]))` and `provideJot(...)` to the root
 * providers. Running it again changes nothing. Whatever it cannot edit safely (an NgModule app,
 * a config it cannot analyse) it leaves alone and logs the lines to add by hand.
 */
export default function ngAdd(options: Schema): Rule {
  return async (tree: Tree, context: SchematicContext) => {
    const project = await resolveProject(tree, options.project);
    return chain([
      // `Skip`: `ng add` has already saved its own specifier (a registry range, or a tarball
      // path that a `^x.y.z` range would send the install task to the registry for).
      addDependency(JOT, `^${ownVersion()}`, { existing: ExistingBehavior.Skip }),
      addDependency('jwt-decode', JWT_DECODE_RANGE, { existing: ExistingBehavior.Skip }),
      project ? setUpProviders(project, options) : noProject(options, context),
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
 * The application to edit: `--project`, else the only application of the workspace. `null`
 * when there is none to choose (the caller then prints the manual steps).
 */
async function resolveProject(tree: Tree, requested: string | undefined): Promise<string | null> {
  const workspace = await readWorkspace(tree);
  if (requested) {
    const project = workspace.projects.get(requested);
    if (!project) {
      throw new SchematicsException(
        `ngx-jot: there is no project "${requested}" in angular.json; pass --project <name> ` +
          `with one of: ${[...workspace.projects.keys()].join(', ')}.`,
      );
    }
    return project.extensions['projectType'] === 'application' ? requested : null;
  }
  const applications = [...workspace.projects.entries()]
    .filter(([, project]) => project.extensions['projectType'] === 'application')
    .map(([name]) => name);
  return applications.length === 1 ? applications[0] : null;
}

function noProject(options: Schema, context: SchematicContext): Rule {
  return () => {
    printManualSteps(
      context,
      options,
      options.project
        ? `"${options.project}" is not an application`
        : 'no single application to set up was found (pass --project <name>)',
      'your root providers',
      { http: true, jot: true },
    );
  };
}

function setUpProviders(project: string, options: Schema): Rule {
  return async (tree: Tree, context: SchematicContext) => {
    const manual = (reason: string, file: string, parts: ManualParts) => {
      printManualSteps(context, options, reason, file, parts);
      return undefined;
    };
    const all: ManualParts = { http: true, jot: true };

    let mainPath: string;
    try {
      mainPath = await getMainFilePath(tree, project);
    } catch {
      return manual(`project "${project}" has no build target with a main file`, 'your root providers', all);
    }
    if (!mainPath || !tree.exists(mainPath)) {
      return manual(`the main file of "${project}" (${mainPath}) was not found`, 'your root providers', all);
    }

    let bootstrapCall: ts.CallExpression;
    try {
      bootstrapCall = findBootstrapApplicationCall(tree, mainPath);
    } catch (error) {
      if (!(error instanceof SchematicsException)) {
        throw error;
      }
      // Inserting into an NgModule's metadata is possible but easy to get wrong for custom
      // modules, and those apps are a minority: hand the user the exact lines instead.
      return manual(`${mainPath} does not call bootstrapApplication()`, rootModuleOf(tree, mainPath), all);
    }

    const appConfig = findAppConfig(bootstrapCall, tree, mainPath);
    if (!appConfig) {
      if (bootstrapCall.arguments.length === 1) {
        // `bootstrapApplication(App)`: addRootProvider creates the config object in main.ts.
        return chain([
          addProvider(project, mainPath, httpProvider),
          addProvider(project, mainPath, jotProvider(options)),
        ]);
      }
      return manual(
        `the application config passed to bootstrapApplication() in ${mainPath} cannot be analysed`,
        mainPath,
        all,
      );
    }

    const { filePath, node: config } = appConfig;
    const hasProvidersProperty = config.properties.some(
      (p) => p.name !== undefined && propertyNameText(p.name) === 'providers',
    );
    if ((hasProvidersProperty && !findProvidersLiteral(config)) || config.properties.some(ts.isSpreadAssignment)) {
      return manual(`the providers of the application config in ${filePath} are not a plain array`, filePath, all);
    }

    const source = getSourceFile(tree, filePath);
    const rules: Rule[] = [];

    const httpCalls = findCalls(source, 'provideHttpClient', HTTP);
    if (httpCalls.length === 0) {
      rules.push(addProvider(project, mainPath, httpProvider));
    } else if (httpCalls.some((call) => hasJotInterceptor(source, call))) {
      context.logger.info(`ngx-jot: ${filePath} already registers jotInterceptor.`);
    } else if (httpCalls.length === 1 && mergeInterceptor(tree, source, filePath, httpCalls[0])) {
      context.logger.info(`ngx-jot: added jotInterceptor to the existing provideHttpClient() in ${filePath}.`);
    } else {
      manual(
        httpCalls.length === 1
          ? `the interceptors of provideHttpClient() in ${filePath} are not a plain array`
          : `${filePath} calls provideHttpClient() more than once`,
        filePath,
        { http: true, jot: false },
      );
    }

    if (findCalls(source, 'provideJot', JOT).length === 0) {
      rules.push(addProvider(project, mainPath, jotProvider(options)));
    } else {
      context.logger.info(`ngx-jot: ${filePath} already calls provideJot(); its options are left as they are.`);
    }
    return chain(rules);
  };
}

/** Where an NgModule app's root providers go, for the manual steps. */
function rootModuleOf(tree: Tree, mainPath: string): string {
  if (!findBootstrapModuleCall(tree, mainPath)) {
    return `the root providers of the app started in ${mainPath}`;
  }
  try {
    const modulePath = getAppModulePath(tree, mainPath);
    return tree.exists(modulePath)
      ? `the providers of the root NgModule in ${modulePath}`
      : 'the providers of your root NgModule';
  } catch {
    return 'the providers of your root NgModule';
  }
}

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
    const appConfig = findAppConfig(findBootstrapApplicationCall(tree, mainPath), tree, mainPath);
    const providers = appConfig && findProvidersLiteral(appConfig.node);
    const imports: Array<[string, string]> = [];
    const expression = provider((symbol, module) => {
      imports.push([symbol, module]);
      return symbol;
    });
    if (
      !appConfig ||
      !providers ||
      imports.some(([symbol, module]) => hasTopLevelIdentifier(providers.getSourceFile(), symbol, module))
    ) {
      return addRootProvider(project, ({ code, external }) => code`${provider(external)}`);
    }
    const source = providers.getSourceFile();
    applyChanges(tree, appConfig.filePath, [
      appendToList(source, appConfig.filePath, providers.elements, providers.getStart(source) + 1, expression),
    ]);
    addImports(tree, appConfig.filePath, imports);
    return undefined;
  };
}

/**
 * Registers `jotInterceptor` in an existing `provideHttpClient(...)` call: into its
 * `withInterceptors([...])`, or as a new `withInterceptors([jotInterceptor])` feature. Returns
 * false, changing nothing, when the interceptors are not an array literal it can extend.
 */
function mergeInterceptor(tree: Tree, source: ts.SourceFile, filePath: string, call: ts.CallExpression): boolean {
  const withInterceptors = findFeature(source, call, 'withInterceptors');
  const jotInterceptor = localName(source, 'jotInterceptor', JOT);
  if (withInterceptors) {
    const list = withInterceptors.arguments[0];
    if (withInterceptors.arguments.length !== 1 || !ts.isArrayLiteralExpression(list)) {
      return false;
    }
    applyChanges(tree, filePath, [
      appendToList(source, filePath, list.elements, list.getStart(source) + 1, jotInterceptor),
    ]);
    addImports(tree, filePath, [['jotInterceptor', JOT]]);
  } else {
    const feature = `${localName(source, 'withInterceptors', HTTP)}([${jotInterceptor}])`;
    applyChanges(tree, filePath, [appendToList(source, filePath, call.arguments, call.arguments.pos, feature)]);
    addImports(tree, filePath, [
      ['withInterceptors', HTTP],
      ['jotInterceptor', JOT],
    ]);
  }
  return true;
}

function applyChanges(tree: Tree, filePath: string, changes: Change[]): void {
  const recorder = tree.beginUpdate(filePath);
  applyToUpdateRecorder(recorder, changes);
  tree.commitUpdate(recorder);
}

/** Imports each symbol unless the file already imports it; one parse per symbol, so that a
 * second symbol from one module joins the import declaration added for the first. */
function addImports(tree: Tree, filePath: string, imports: Array<[string, string]>): void {
  for (const [symbol, module] of imports) {
    applyChanges(tree, filePath, [insertImport(getSourceFile(tree, filePath), filePath, symbol, module)]);
  }
}

/**
 * Appends `text` as the last element of a comma-separated list (call arguments or array
 * elements), keeping the list's layout: one line stays one line, one element per line gets a
 * new line with the same indentation, and a trailing comma stays trailing.
 */
function appendToList(
  source: ts.SourceFile,
  filePath: string,
  list: ts.NodeArray<ts.Node>,
  emptyListPos: number,
  text: string,
): Change {
  if (list.length === 0) {
    return new InsertChange(filePath, emptyListPos, text);
  }
  const last = list[list.length - 1];
  const lastStart = last.getStart(source);
  const lineStart = source.text.lastIndexOf('\n', lastStart - 1) + 1;
  const beforeLast = source.text.slice(lineStart, lastStart);
  // The last element opening its own line means one element per line.
  const separator = beforeLast.trim() === '' ? `${getEOL(source.text)}${beforeLast}` : ' ';
  if (list.hasTrailingComma) {
    const comma = source.text.indexOf(',', last.getEnd());
    return new InsertChange(filePath, comma + 1, `${separator}${text},`);
  }
  return new InsertChange(filePath, last.getEnd(), `,${separator}${text}`);
}

/** `{ loginUrl: '...' }`, the first argument of `provideJot`. */
function jotConfigLiteral(options: Schema): string {
  return `{ loginUrl: ${quote(options.loginUrl ?? '/authenticate')} }`;
}

/** A single-quoted TypeScript string literal. */
function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

/** The local name under which `symbol` is imported from `module`, else `symbol` itself. */
function localName(source: ts.SourceFile, symbol: string, module: string): string {
  for (const statement of source.statements) {
    if (
      ts.isImportDeclaration(statement) &&
      ts.isStringLiteral(statement.moduleSpecifier) &&
      statement.moduleSpecifier.text === module &&
      statement.importClause?.namedBindings &&
      ts.isNamedImports(statement.importClause.namedBindings)
    ) {
      for (const element of statement.importClause.namedBindings.elements) {
        if ((element.propertyName ?? element.name).text === symbol) {
          return element.name.text;
        }
      }
    }
  }
  return symbol;
}

/** Every call of `symbol` (imported from `module`) anywhere in the file. */
function findCalls(source: ts.SourceFile, symbol: string, module: string): ts.CallExpression[] {
  const name = localName(source, symbol, module);
  const calls: ts.CallExpression[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === name) {
      calls.push(node);
    }
    node.forEachChild(visit);
  };
  source.forEachChild(visit);
  return calls;
}

/** The `withX(...)` feature argument of a `provideHttpClient(...)` call, if any. */
function findFeature(source: ts.SourceFile, call: ts.CallExpression, feature: string): ts.CallExpression | undefined {
  const name = localName(source, feature, HTTP);
  return call.arguments.find(
    (arg): arg is ts.CallExpression =>
      ts.isCallExpression(arg) && ts.isIdentifier(arg.expression) && arg.expression.text === name,
  );
}

function hasJotInterceptor(source: ts.SourceFile, call: ts.CallExpression): boolean {
  const list = findFeature(source, call, 'withInterceptors')?.arguments[0];
  const name = localName(source, 'jotInterceptor', JOT);
  return (
    !!list &&
    ts.isArrayLiteralExpression(list) &&
    list.elements.some((element) => ts.isIdentifier(element) && element.text === name)
  );
}

function propertyNameText(name: ts.PropertyName): string | undefined {
  return ts.isIdentifier(name) || ts.isStringLiteral(name) ? name.text : undefined;
}

interface ManualParts {
  http: boolean;
  jot: boolean;
}

/** Logs, ready to paste, the imports and providers the schematic could not add itself. */
function printManualSteps(
  context: SchematicContext,
  options: Schema,
  reason: string,
  where: string,
  parts: ManualParts,
): void {
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
  const lines = [
    ...(parts.http ? [`import { provideHttpClient, withInterceptors } from '${HTTP}';`] : []),
    `import { ${jotSymbols.join(', ')} } from '${JOT}';`,
    '',
    'providers: [',
    ...(parts.http ? ['  provideHttpClient(withInterceptors([jotInterceptor])),'] : []),
    ...(parts.jot ? [`  provideJot(${[jotConfigLiteral(options), ...features].join(', ')}),`] : []),
    ']',
  ];
  context.logger.warn(
    `ngx-jot: ${reason}, so it was left unchanged. Add this by hand to ${where}` +
      (parts.http ? ' (merge into an existing provideHttpClient() rather than adding a second one)' : '') +
      ':\n\n' +
      lines.map((line) => (line ? `    ${line}` : '')).join('\n') +
      '\n',
  );
}
