// zone.js (fakeAsync/tick): only *.zone.spec.ts.
const { createCjsPreset } = require('jest-preset-angular/presets');

module.exports = {
  ...createCjsPreset({
    tsconfig: '<rootDir>/tsconfig.spec.json',
    testEnvironment: 'jest-preset-angular/environments/jest-jsdom-env',
  }),
  displayName: 'ngx-jot (zone.js)',
  rootDir: __dirname,
  setupFilesAfterEnv: ['<rootDir>/setup-jest.zone.ts'],
  testMatch: ['<rootDir>/src/**/*.zone.spec.ts'],
  moduleNameMapper: {
    '^ngx-jot$': '<rootDir>/src/public-api.ts',
    '^ngx-jot/testing$': '<rootDir>/testing/src/public-api.ts',
  },
};
