// Zoneless (the default of new Angular apps): every spec but *.zone.spec.ts.
const { createCjsPreset } = require('jest-preset-angular/presets');

module.exports = {
  ...createCjsPreset({
    tsconfig: '<rootDir>/tsconfig.spec.json',
    testEnvironment: 'jest-preset-angular/environments/jest-jsdom-env',
  }),
  displayName: 'ngx-jot',
  rootDir: __dirname,
  setupFilesAfterEnv: ['<rootDir>/setup-jest.ts'],
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/testing/**/*.spec.ts'],
  testPathIgnorePatterns: ['\\.zone\\.spec\\.ts$'],
  moduleNameMapper: {
    '^ngx-jot$': '<rootDir>/src/public-api.ts',
    '^ngx-jot/testing$': '<rootDir>/testing/src/public-api.ts',
  },
};
