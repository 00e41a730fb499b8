// The `ng add` schematic: plain Node + CommonJS, no Angular testing environment.
module.exports = {
  displayName: 'ngx-jot-schematics',
  rootDir: __dirname,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/**/*.spec.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  moduleNameMapper: {
    // ESM-only, pulled in by @angular-devkit/schematics/tasks; see ora.stub.js.
    '^ora$': '<rootDir>/ora.stub.js',
  },
};
