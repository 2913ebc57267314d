/**
 * The layering of src/, checked by `npm test` (see docs/architecture.md):
 *   cli → bench → features (migrate, import, spotify, cache, diagnostics) → repositories → db
 *       → the cross-cutting files (config, errors, logger, paths, gc, ids).
 * @type {import('dependency-cruiser').IConfiguration}
 */
const FEATURES = '^src/(migrate|import|spotify|cache|diagnostics)/';
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'Files that import each other in a loop cannot be understood or tested one at a time.', from: {}, to: { circular: true } },
    { name: 'nothing-imports-cli', severity: 'error', comment: 'The CLI is the top layer: only the entry point (bin/) reaches it.', from: { pathNot: '^src/cli/' }, to: { path: '^src/cli/' } },
    { name: 'no-feature-imports-bench', severity: 'error', comment: 'Benchmark machinery measures the features; the features never depend on it.', from: { path: '^src/', pathNot: '^src/(cli|bench)/' }, to: { path: '^src/bench/' } },
    { name: 'repositories-below-features', severity: 'error', from: { path: '^src/repositories/' }, to: { path: [FEATURES, '^src/bench/'] } },
    { name: 'db-below-repositories', severity: 'error', from: { path: '^src/db/' }, to: { path: ['^src/repositories/', FEATURES, '^src/bench/'] } },
    { name: 'base-at-the-bottom', severity: 'error', comment: 'config, errors, logger, paths, gc and ids are imported by every layer and import none.', from: { path: '^src/[^/]+\\.ts$' }, to: { path: '^src/[^/]+/' } },
    { name: 'no-unresolvable', severity: 'error', from: {}, to: { couldNotResolve: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^src/generated/', '^dist/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.mjs'] },
  },
};
