// ESLint flat config: `npm run lint` (part of `npm test`) must report zero problems.
// TypeScript (src, test) gets typescript-eslint's type-checked recommended rules; the plain
// JavaScript around it (bench, scripts, bin, configs) gets ESLint's recommended rules.
// Every rule turned off or tuned below says why.
import { defineConfig, globalIgnores } from 'eslint/config';
import { builtinRules } from 'eslint/use-at-your-own-risk';
import tseslint from 'typescript-eslint';

// ESLint's recommended set is published as @eslint/js, which is not a dependency here; the same
// list is the core rules whose metadata marks them recommended.
const eslintRecommended = Object.fromEntries(
  [...builtinRules]
    .filter(([, rule]) => rule.meta?.docs?.recommended && !rule.meta.deprecated)
    .map(([name]) => [name, 'error']),
);

// The JavaScript files run on Node only: its own globals are the ones they may use.
const nodeGlobals = Object.fromEntries(
  Object.getOwnPropertyNames(globalThis).map((name) => [name, 'readonly']),
);

export default defineConfig([
  globalIgnores(['dist/', 'src/generated/', 'coverage/', 'spike/', 'tmp/']),
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    languageOptions: { globals: nodeGlobals },
    rules: eslintRecommended,
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
  },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        // One program for src and test (tsconfig.json alone covers only src).
        project: ['./tsconfig.test.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // `_`-named bindings are deliberate: `const { id: _ignored, ...rest }` drops a key, `for (const _ of s)` counts.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true, argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // A value the types rule out is still printed: guards on user input typed narrower than it
      // arrives, and variables a callback assigns (TypeScript narrows those to `never`).
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNever: true }],
      // Promises around callback APIs pass on the callback's error or the abort signal's reason as
      // they came (typed unknown or any), as Node's own promise APIs do.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
    },
  },
  {
    // The caches' hot paths index typed arrays and mark each in-bounds read with `!`, written to
    // hold under noUncheckedIndexedAccess (off in tsconfig.json), where they are needed.
    files: ['src/cache/**/*.ts', 'src/bench/cache-bench*.ts', 'src/bench/cache-bench/**/*.ts', 'test/cache/**/*.ts'],
    rules: { '@typescript-eslint/no-unnecessary-type-assertion': 'off' },
  },
  {
    // better-sqlite3 is synchronous: these methods are async only to implement the
    // provider-neutral Promise interfaces (a forgotten await still fails no-floating-promises).
    files: ['src/import/store/sqlite.ts', 'src/import/store/credits-sqlite.ts', 'src/db/raw.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests read the CLI's --json output (JSON.parse: any) and raw driver rows and check their
      // shape with expect(): a wrong shape fails the assertion, so typing each is noise.
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // ... and print raw cells (unknown) as text to compare the two providers' rows.
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      // Fakes implement async interfaces (batch functions, clocks, drop()) without awaiting.
      '@typescript-eslint/require-await': 'off',
    },
  },
]);
