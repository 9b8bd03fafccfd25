// ESLint: the layering of src/ as a check, and the promise rules that keep
// every async task owned. `npm test` runs it (scripts/test.sh).
//
// Layers, lowest first; a layer may import only the layers listed for it.
// Tests (*.test.ts) and src/testing/ may import anything in src/ and the
// test harness; production code never imports them, nor test/, bench/ or
// demo/.
import importPlugin from 'eslint-plugin-import';
import tseslint from 'typescript-eslint';

const LAYERS = {
  validate: [],
  observe: ['validate'],
  ats: ['validate'],
  kube: ['validate', 'observe'],
  config: ['validate', 'kube'],
  cache: ['validate', 'kube', 'config'],
  model: ['validate', 'kube', 'config', 'cache'],
  'route-table': ['validate', 'model'],
  sources: ['validate', 'observe', 'kube'],
  publish: ['validate', 'observe', 'ats', 'kube', 'config', 'cache', 'model', 'route-table'],
  controller: ['validate', 'observe', 'ats', 'kube', 'config', 'cache', 'model', 'route-table', 'sources', 'publish'],
  cli: ['validate', 'observe', 'ats', 'kube', 'config', 'cache', 'model', 'route-table', 'sources', 'publish', 'controller'],
  'example-app': ['cli'],
};
const ALL = [...Object.keys(LAYERS), 'testing'];

const layerZones = Object.entries(LAYERS).flatMap(([layer, allowed]) =>
  ALL.filter((other) => other !== layer && !allowed.includes(other)).map((other) => ({
    target: `./src/${layer}`,
    from: `./src/${other}`,
    message: `src/${layer} may import only ${allowed.length ? allowed.map((a) => `src/${a}`).join(', ') : 'nothing else in src'} (see eslint.config.js)`,
  })),
);
const productionZones = ['test', 'bench', 'demo'].map((dir) => ({
  target: './src',
  from: `./${dir}`,
  message: `production code never imports ${dir}/`,
}));

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'native/**', 'ats-plugin/**', 'node_modules/**', 'tools/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin, import: importPlugin },
    settings: {
      'import/resolver': { typescript: { project: './tsconfig.json' } },
    },
    rules: {
      // node:test's describe() and test() return promises the runner owns.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/await-thenable': 'error',
      'import/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.test.ts', 'src/testing/**'],
    rules: {
      'import/no-restricted-paths': ['error', { zones: [...layerZones, ...productionZones] }],
    },
  },
);
