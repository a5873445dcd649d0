// Two projects: pure unit specs next to the code, and end-to-end specs under test/ that run
// against the real Kafka and FerretDB started by scripts/test.mjs.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];
const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: { '^@keyward/(.*)$': '<rootDir>/libs/$1/src' },
  rootDir: __dirname,
};

/** A project of real-process specs that jest lists only when `envVar` is 1 (set by the npm script that runs it). */
const onlyWith = (envVar, displayName, testMatch) =>
  process.env[envVar] === '1'
    ? [{ ...shared, displayName, testMatch: [testMatch], setupFiles: ['<rootDir>/test/support/mongodb-driver-os.ts'] }]
    : [];

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/libs/**/*.spec.ts',
        '<rootDir>/services/**/*.spec.ts',
        '<rootDir>/bench/**/*.spec.ts',
        '<rootDir>/test/**/*.spec.ts',
      ],
    },
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      setupFiles: ['<rootDir>/test/support/mongodb-driver-os.ts'],
      slowTestThreshold: 30,
    },
    // npm run test:drill only (docs/high-availability.md): faults under load, minutes long. Listed only
    // when test:drill sets KEYWARD_DRILL, so npm test does not run it a second time in CI (.ci/run
    // runs test:drill after npm test).
    ...onlyWith('KEYWARD_DRILL', 'drill', '<rootDir>/test/drill/**/*.drill-spec.ts'),
    // npm run soak only (docs/high-availability.md): the drill's stack under load for 30 minutes.
    // Listed only when scripts/soak.mjs sets KEYWARD_SOAK, so no plain `jest` run (npm test) picks it up.
    ...onlyWith('KEYWARD_SOAK', 'soak', '<rootDir>/test/drill/**/*.soak-spec.ts'),
  ],
};
