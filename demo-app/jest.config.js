// The demo app's component tests: zoneless, no network (ngx-jot/testing supplies the session).
const { createCjsPreset } = require('jest-preset-angular/presets');

module.exports = {
  ...createCjsPreset({
    tsconfig: '<rootDir>/tsconfig.spec.json',
    testEnvironment: 'jest-preset-angular/environments/jest-jsdom-env',
  }),
  displayName: 'demo-app',
  rootDir: __dirname,
  setupFilesAfterEnv: ['<rootDir>/../projects/ngx-jot/setup-jest.ts'],
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  moduleNameMapper: {
    '^ngx-jot$': '<rootDir>/../projects/ngx-jot/src/public-api.ts',
    '^ngx-jot/testing$': '<rootDir>/../projects/ngx-jot/testing/src/public-api.ts',
  },
};
