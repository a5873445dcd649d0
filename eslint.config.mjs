// @ts-check
import { readdirSync } from 'node:fs';
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/** The deployable services: each is a door onto the libs, and never imports another one's files. */
const SERVICES = readdirSync(new URL('./services', import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

/** Imports of the files of any service in `services` (relative, or through a services/ path). */
const filesOf = (services, message) => ({ regex: `(^|/)(${services.join('|')})/src(/|$)`, message });

const NOT_ANOTHER_SERVICE = "A service never imports another service's files: move what both need into libs/.";
const NOT_A_SERVICE = "The libs never import a service's files.";

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.keyward/**', 'infra/kafka/target/**', '**/*.js', '**/*.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-extraneous-class': ['error', { allowWithDecorator: true, allowStaticOnly: true }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
      // kafkajs hands out payload functions meant to be destructured.
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-unnecessary-type-parameters': 'off',
      'no-restricted-imports': 'off',
    },
  },
  ...SERVICES.map((service) => ({
    files: [`services/${service}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            filesOf(
              SERVICES.filter((other) => other !== service),
              NOT_ANOTHER_SERVICE,
            ),
          ],
        },
      ],
    },
  })),
  {
    files: ['libs/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [filesOf(SERVICES, NOT_A_SERVICE)] }] },
  },
  {
    // The domain is pure: no I/O, no framework (and, as every lib, no service's files).
    files: ['libs/domain/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            filesOf(SERVICES, NOT_A_SERVICE),
            {
              group: [
                '@nestjs/*',
                'kafkajs',
                'mongodb',
                'fastify',
                'node:fs',
                'node:net',
                'node:http',
                'node:https',
                'fs',
                'net',
                'http',
                'https',
                '@keyward/platform',
                '@keyward/event-log',
              ],
              message: 'The domain is pure: no I/O, no framework.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  prettier,
);
