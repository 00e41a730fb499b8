/** Every Jest project of the workspace; `npm test` runs them all. */
module.exports = {
  projects: [
    '<rootDir>/projects/ngx-jot/jest.config.js',
    '<rootDir>/projects/ngx-jot/jest.zone.config.js',
    '<rootDir>/projects/ngx-jot/schematics/jest.config.js',
    '<rootDir>/demo-app/jest.config.js',
  ],
};
