// @ts-check
import tseslint from 'typescript-eslint';

// Imports point down (README, "Layout"): api/ and workers/ -> activities/, workflows/, temporal/
// -> workflows/contracts/ and config/. test/unit/import-direction.test.ts checks the same on the
// resolved import graph, and finds cycles too.
/** @param {string[]} folders @param {string} message */
// Relative paths only: a package such as @opentelemetry/api is not our api/.
const notInto = (folders, message) => ({ regex: `^\\.(.*/)?(${folders.join('|')})(/|$)`, message });
const noIo = {
  group: ['node:*', 'fs', 'net', 'http', 'https', 'child_process', 'os', 'crypto'],
  message: 'Workflow code must not do I/O; use an activity.',
};
const noParent = (message) => ({ regex: '^\\.\\./', message });

export default tseslint.config(
  { ignores: ['node_modules/**', '.temporal/**', '.data/**', 'test/histories/*.json'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node I/O, no ambient randomness.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            noIo,
            {
              group: ['**/activities/**', '@temporalio/activity', '@temporalio/worker', '@temporalio/client'],
              message: 'Workflows import activity types only, via proxyActivities.',
            },
            notInto(['api', 'workers', 'temporal'], 'Workflow code imports only workflows/ and config/.'),
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'Use the workflow-safe uuid4() or a seeded value.' },
      ],
    },
  },
  {
    // Contracts are what both sides import: workflow-safe, and nothing but each other below them.
    files: ['workflows/contracts/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            noIo,
            noParent('Contracts import only each other (workflows/contracts/).'),
            {
              regex: '^(?!\\.|@temporalio/(workflow|common)$|zod$)',
              message: 'Contracts import only @temporalio/workflow, @temporalio/common and zod.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['config/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [noParent('config/ is the bottom layer: it imports no project code.')] },
      ],
    },
  },
  {
    files: ['activities/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            notInto(
              ['api', 'workers', 'temporal'],
              'Activities import only activities/, workflows/contracts/ and config/.',
            ),
            {
              regex: '(^|/)workflows(/(?!contracts(/|$))|$)',
              message: 'Activities import only workflows/contracts/ from workflows/ (move the shared shape there).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['temporal/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [notInto(['api', 'workers'], 'temporal/ sits below api/ and workers/; move the shared code down.')],
        },
      ],
    },
  },
  {
    files: ['api/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            notInto(['workers'], 'The API imports no worker code; move the shared code down (config/, activities/).'),
          ],
        },
      ],
    },
  },
  {
    files: ['workers/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [notInto(['api'], 'Workers import no API code.')] }],
    },
  },
);
