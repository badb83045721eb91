// Lint: typescript-eslint's strict type-aware rules. The few rules relaxed below say why.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'build/**', 'results/**', '.cache/**', 'examples/**', 'templates/**', 'test/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // numbers and booleans print as expected in messages; objects and nullish values do not
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // with noUncheckedIndexedAccess, `xs[i]!` after a bounds check is the idiom for "checked"
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // a callback may return nothing or a value: `T | void` is the honest type of what users write
      '@typescript-eslint/no-invalid-void-type': 'off',
      // commands and package methods share async signatures; one without an await still returns a promise
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
);
