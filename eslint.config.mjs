// @ts-check
// ESLint flat config: the strictest type-checked set for what ships (the library and its testing
// entry), Angular's recommended rules for the library and the demo app, and the lighter,
// non-type-checked `recommended` set for specs, test fakes, the demo API, e2e, scripts and the schematic.
import eslint from '@eslint/js';
import angular from 'angular-eslint';
import prettier from 'eslint-config-prettier';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** What ships: type-checked with `strictTypeChecked` and `stylisticTypeChecked`. */
const librarySources = ['projects/ngx-jot/src/**/*.ts', 'projects/ngx-jot/testing/**/*.ts'];
/** Test code, linted with the spec rules even where it sits beside the library sources. */
const specs = ['**/*.spec.ts', 'projects/ngx-jot/testing-private/**/*.ts', 'projects/ngx-jot/setup-jest*.ts'];

export default defineConfig(
  globalIgnores([
    '**/dist/',
    '**/node_modules/',
    '**/.angular/',
    'docs/',
    'e2e/artifacts/',
    '.tmp/',
    'out-tsc/',
    'coverage/',
    'test-results/',
    'playwright-report/',
  ]),

  // Every JS and TS file: ESLint's and typescript-eslint's recommended sets.
  {
    files: ['**/*.{js,mjs,cjs,ts}'],
    extends: [eslint.configs.recommended, tseslint.configs.recommended],
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // `_`-prefixed parameters and rest siblings are deliberate (callback shapes, omitting a key).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },

  // Node-run JavaScript: scripts, Jest configs and stubs.
  {
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['**/*.{js,cjs}'],
    languageOptions: { sourceType: 'commonjs' },
    rules: {
      // The root package is CommonJS: Jest configs and stubs load each other with require().
      '@typescript-eslint/no-require-imports': 'off',
    },
  },

  // The library and ngx-jot/testing: strict, type-checked, plus Angular's recommended TS rules.
  {
    files: librarySources,
    ignores: specs,
    extends: [tseslint.configs.strictTypeChecked, tseslint.configs.stylisticTypeChecked, angular.configs.tsRecommended],
    languageOptions: {
      parserOptions: {
        project: './projects/ngx-jot/tsconfig.lib.json',
        tsconfigRootDir: import.meta.dirname,
      },
    },
    processor: angular.processInlineTemplates,
    rules: {
      // Template literals here build human-readable messages from numbers and booleans on purpose.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // `() => subject.next(x)` callbacks are idiomatic RxJS/DOM shorthand; void in other expressions is still flagged.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // `||` on strings and booleans deliberately treats '' and false as unset (e.g. `withCredentials || undefined`).
      '@typescript-eslint/prefer-nullish-coalescing': ['error', { ignorePrimitives: { string: true, boolean: true } }],
      // Passing a caught `unknown` on unchanged is not inventing a non-Error rejection.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
    },
  },

  // The demo app: recommended TS rules plus Angular's.
  {
    files: ['demo-app/**/*.ts'],
    ignores: specs,
    extends: [angular.configs.tsRecommended],
    processor: angular.processInlineTemplates,
    rules: {
      '@angular-eslint/component-selector': ['error', { type: 'element', prefix: 'app', style: 'kebab-case' }],
      '@angular-eslint/directive-selector': ['error', { type: 'attribute', prefix: 'app', style: 'camelCase' }],
    },
  },

  // Templates, external and inline (extracted by processInlineTemplates above).
  {
    files: ['**/*.html'],
    extends: [angular.configs.templateRecommended, angular.configs.templateAccessibility],
  },

  // Specs and test fakes: the recommended set only, with the allowances tests need.
  {
    files: specs,
    languageOptions: { globals: { ...globals.node, ...globals.jest } },
    rules: {
      // Specs assert a value exists right before using it; `!` states what the assertion proved.
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },

  // The demo API, e2e and Playwright config: Node code.
  {
    files: [
      'demo-api/**/*.ts',
      'soak/*.ts',
      'soak/test/**/*.ts',
      'e2e/**/*.ts',
      'playwright.config.ts',
      'scripts/**/*.{js,mjs,ts}',
    ],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['e2e/**/*.ts'],
    rules: {
      // Playwright reads a fixture's dependencies from its first parameter's pattern; `{}` means none.
      'no-empty-pattern': 'off',
    },
  },

  // Formatting belongs to Prettier: turn off every rule it would fight with. Keep this last.
  prettier,
);
