/**
 * The shape of the codebase, checked by `npm run lint:deps` (part of `npm test`); see
 * docs/architecture.md, "Module faces". A module is a top-level folder of src/ (src/lessons: each
 * of its folders). Its face is its index.ts: other modules and bench/ import it only through that.
 *
 * @type {import('dependency-cruiser').IConfiguration}
 */

/** A test: a *.test.ts file, or a file of test support (test/, test-support/, any test-support/ folder). */
const TEST_CODE = '(\\.test\\.ts$|^test/|^test-support/|/test-support/)';

/**
 * What another module may import: a module's index.ts, a file directly in src/ (package-version.ts),
 * and the faces of the parts loaded apart: each lessons part, and the client's TUI (it pulls in
 * blessed, so the client's face does not re-export it).
 */
// Second faces, loaded lazily so the first never pulls them in: the browser's protocol, the cluster
// (ioredis), the cluster demo (Redis and the cluster).
const FACES = ['^src/[^/]+/index\\.ts$', '^src/protocol/browser\\.ts$', '^src/server/cluster/index\\.ts$', '^src/demo/cluster-demo\\.ts$', '^src/[^/]+\\.ts$', '^src/lessons/[^/]+/index\\.ts$', '^src/client/tui/index\\.ts$'];

module.exports = {
  forbidden: [
    {
      name: 'module-face',
      comment:
        'A module imports another only through its face (index.ts): what is not exported there is the other module\'s inside. Export what you need from that index.ts, or import it from there.',
      severity: 'error',
      from: { path: '^src/([^/]+)/', pathNot: TEST_CODE },
      to: { path: '^src/', pathNot: ['^src/$1/', ...FACES] },
    },
    {
      name: 'lessons-part-face',
      comment: "The parts of src/lessons (runtime/, readme/) import each other only through their index.ts.",
      severity: 'error',
      from: { path: '^src/lessons/([^/]+)/', pathNot: TEST_CODE },
      to: { path: '^src/lessons/[^/]+/', pathNot: ['^src/lessons/$1/', ...FACES] },
    },
    {
      name: 'lessons-readme-on-top',
      comment: 'readme/ (README generation) builds on runtime/, never the other way, and the CLI never loads it.',
      severity: 'error',
      from: { path: '^src/(lessons/runtime|cli)/', pathNot: TEST_CODE },
      to: { path: '^src/lessons/readme/' },
    },
    {
      name: 'bench-through-faces',
      comment: 'The benchmarks use chatlab as a user would: through the modules\' index.ts.',
      severity: 'error',
      // delivery-path.ts measures the server's inner delivery path (hub, outbox, output budget),
      // loaded by file from a build of the server: a micro-benchmark of insides, like a unit test.
      from: { path: '^bench/', pathNot: [TEST_CODE, '^bench/scenarios/delivery-path\\.ts$'] },
      to: { path: '^src/', pathNot: FACES },
    },
    {
      name: 'protocol-imports-nothing-of-ours',
      comment: 'src/protocol is the codec every tool builds on: it imports nothing else of chatlab.',
      severity: 'error',
      from: { path: '^src/protocol/', pathNot: TEST_CODE },
      to: { path: '^(src|bench|scripts|test|test-support|lessons)/', pathNot: '^src/protocol/' },
    },
    {
      name: 'no-test-code-in-src',
      comment: 'Code that ships (src/, not a test) never imports tests, test support or a test library.',
      severity: 'error',
      from: { path: '^src/', pathNot: TEST_CODE },
      to: { path: TEST_CODE },
    },
    {
      name: 'no-dev-dependency-in-src',
      comment: 'Code that ships (src/, not a test) never imports a devDependency (vitest, fast-check, ...): it would be missing after npm install --omit=dev.',
      severity: 'error',
      from: { path: '^src/', pathNot: TEST_CODE },
      to: { dependencyTypes: ['npm-dev'], pathNot: '^node_modules/@types/' },
    },
    {
      name: 'no-circular',
      comment: 'No import cycles: a cycle makes load order matter and the pieces inseparable.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that resolves to nothing (a typo, a moved file).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // node_modules is listed so that imports of packages are seen (for no-dev-dependency-in-src),
    // but never followed into.
    includeOnly: '^(src|bench|scripts|test|test-support|node_modules)/',
    doNotFollow: { path: '(^|/)node_modules/' },
    tsPreCompilationDeps: true,
    // node_modules may be a symlink (to a shared install): keep its packages under node_modules/.
    preserveSymlinks: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.mjs', '.js', '.cjs', '.json', '.d.ts'],
    },
    skipAnalysisNotInRules: true,
  },
};
