import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// The Nx project graph is the build's: every project builds after the projects it depends on (`dependsOn: ["^build"]`)
// and `nx affected` picks projects along it. This proves the graph holds only real edges (no `"!x"` implicit
// dependency hides a test's import), is layered (test projects and tools → apps → feature libs → domain and data
// libs → util libs), has no cycle (Nx refuses to run a cyclic task graph), agrees with the packages' dependencies
// and the TypeScript project references, and that `nx affected` picks exactly the projects sample changes touch:
// a domain lib, the scanner (the cross-app suites of apps/platform-e2e follow it) and libs/db (libs/db-int follows it).
const ROOT = path.resolve(__dirname, '..', '..');
const NX = path.join(ROOT, 'node_modules', 'nx', 'dist', 'bin', 'nx.js');
const NX_ENV = { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true', NODE_OPTIONS: '' };

interface Graph {
  nodes: Record<string, { data: { root: string; tags?: string[] } }>;
  dependencies: Record<string, { target: string }[]>;
}

function nx(cwd: string, args: string[]): string {
  return execFileSync(process.execPath, [NX, ...args], { cwd, env: NX_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function readGraph(cwd: string): Graph {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'mw-graph-')), 'graph.json');
  try {
    nx(cwd, ['graph', `--file=${file}`]);
    return (JSON.parse(readFileSync(file, 'utf8')) as { graph: Graph }).graph;
  } finally {
    rmSync(path.dirname(file), { recursive: true, force: true });
  }
}

/** Project → the projects it depends on (external npm nodes left out). */
function edges(graph: Graph): Map<string, string[]> {
  return new Map(Object.keys(graph.nodes).map((name) => [name, (graph.dependencies[name] ?? []).map((d) => d.target).filter((t) => t in graph.nodes)]));
}

function findCycle(deps: Map<string, string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === 'done') return null;
    if (state.get(node) === 'open') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'open');
    stack.push(node);
    for (const next of deps.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of deps.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

/**
 * The layer of a project from its `type:` tag: a project may depend only on its own layer or lower ones. Test projects
 * (`type:test`: apps/console-e2e, apps/platform-e2e, libs/db-int) and tools sit on top: they run the apps they test.
 */
const LAYER: Record<string, number> = { 'type:test': 5, 'type:tool': 5, 'type:app': 4, 'type:feature': 3, 'type:domain': 2, 'type:data': 2, 'type:util': 1 };

/** Every project that depends on one of `changed`, however indirectly, and `changed` itself. */
function dependentsOf(deps: Map<string, string[]>, changed: string[]): string[] {
  const dependents = new Set(changed);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [source, targets] of deps) {
      if (!dependents.has(source) && targets.some((target) => dependents.has(target))) {
        dependents.add(source);
        grew = true;
      }
    }
  }
  return [...dependents].sort();
}

describe('the Nx project graph', () => {
  let graph: Graph;
  let deps: Map<string, string[]>;
  const typeOf = (name: string) => (graph.nodes[name].data.tags ?? []).find((tag) => tag.startsWith('type:')) ?? 'none';

  beforeAll(() => {
    graph = readGraph(ROOT);
    deps = edges(graph);
  }, 120_000);

  it('should have no negated implicit dependency: every edge a test file makes is a real edge of the graph', () => {
    // `"!x"` would hide an import (a test starting another app, db's tests using libs/testing) from the graph, so
    // `nx affected` would skip the suite when x changes. Cross-project suites live in test projects instead.
    const negated: string[] = [];
    for (const [name, node] of Object.entries(graph.nodes)) {
      const project = JSON.parse(readFileSync(path.join(ROOT, node.data.root, 'project.json'), 'utf8')) as { implicitDependencies?: string[] };
      negated.push(...(project.implicitDependencies ?? []).filter((dep) => dep.startsWith('!')).map((dep) => `${name}: ${dep}`));
    }
    expect(negated).toEqual([]);
  });

  it('should give every project with tests the target that runs them (`test`, and `test-int` or `e2e`)', () => {
    // A suite outside its project's targets is never picked by `nx affected -t test test-int`.
    const roots = Object.entries(graph.nodes).map(([name, node]) => ({ name, root: node.data.root })).sort((a, b) => b.root.length - a.root.length);
    const targetsOf = (name: string) => Object.keys((graph.nodes[name].data as { targets?: Record<string, unknown> }).targets ?? {});
    const missing = new Set<string>();
    for (const file of execFileSync('git', ['ls-files', '*.spec.ts', '*.int-spec.ts'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean)) {
      const owner = roots.find(({ root }) => file.startsWith(`${root}/`));
      if (!owner) {
        missing.add(`${file}: in no project`);
        continue;
      }
      const needed = file.endsWith('.int-spec.ts') ? ['test-int', 'e2e'] : ['test'];
      if (!needed.some((target) => targetsOf(owner.name).includes(target))) missing.add(`${owner.name}: has ${file}, no ${needed.join(' or ')} target`);
    }
    expect([...missing]).toEqual([]);
  });

  it('should have no cycle', () => {
    expect(findCycle(deps)).toBeNull();
    // The edges that used to close cycles are real and one-way now.
    expect(deps.get('testing')).toContain('db');
    expect(deps.get('db')).not.toContain('testing');
    expect(deps.get('db-int')).toEqual(expect.arrayContaining(['db', 'testing']));
    expect(deps.get('platform-e2e')).toEqual(expect.arrayContaining(['admin-api', 'journal-ingest', 'scanner']));
    expect(deps.get('tools')).toEqual(expect.arrayContaining(['admin-api', 'journal-ingest', 'scanner']));
  });

  it('should go from apps to feature libs to domain and data libs, never upwards', () => {
    const upward: string[] = [];
    for (const [source, targets] of deps) {
      for (const target of targets) {
        // Nothing depends on a test project or on tools.
        if (['type:test', 'type:tool'].includes(typeOf(target))) upward.push(`${source} → ${target} (${typeOf(target)})`);
        // libs/testing serves every project's tests; its own dependencies are held to the data layer below.
        if (typeOf(target) === 'type:testing') continue;
        const from = typeOf(source) === 'type:testing' ? LAYER['type:data'] + 1 : LAYER[typeOf(source)];
        const to = LAYER[typeOf(target)];
        if (from === undefined || to === undefined) upward.push(`${source} (${typeOf(source)}) → ${target} (${typeOf(target)}): no layer`);
        else if (!(to <= from)) upward.push(`${source} (${typeOf(source)}) → ${target} (${typeOf(target)})`);
        // An app never depends on another app, but the console builds against the admin API's OpenAPI document.
        if (typeOf(source) === 'type:app' && typeOf(target) === 'type:app' && !(source === 'console' && target === 'admin-api')) upward.push(`${source} → ${target}`);
      }
    }
    expect(upward).toEqual([]);
    expect(deps.get('admin-api')).toEqual(expect.arrayContaining(['accounts', 'scanning']));
    expect(deps.get('scanning')).toEqual(expect.arrayContaining(['db', 'policy']));
  });

  it("should hold every package's workspace dependencies, and build each project against exactly them", () => {
    const mismatches: string[] = [];
    for (const [name, node] of Object.entries(graph.nodes)) {
      const dir = path.join(ROOT, node.data.root);
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
      const declared = Object.keys(pkg.dependencies ?? {})
        .filter((dep) => dep.startsWith('@mailwarden/'))
        .map((dep) => dep.slice('@mailwarden/'.length))
        .sort();
      for (const dep of declared) {
        if (!deps.get(name)?.includes(dep)) mismatches.push(`${name}: package.json depends on ${dep}, the graph does not`);
      }
      const tsconfig = ['tsconfig.lib.json', 'tsconfig.app.json', 'tsconfig.tools.json'].map((file) => path.join(dir, file)).find((file) => existsSync(file));
      if (!tsconfig) continue;
      const references = ((JSON.parse(readFileSync(tsconfig, 'utf8')) as { references?: { path: string }[] }).references ?? [])
        .map((reference) => path.basename(path.dirname(path.resolve(dir, reference.path))))
        .sort();
      if (JSON.stringify(references) !== JSON.stringify(declared)) {
        mismatches.push(`${name}: ${path.relative(ROOT, tsconfig)} references [${references}] but package.json depends on [${declared}]`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  /**
   * The scratch worktree's node_modules: the packages of this checkout, but `@mailwarden/*` linked to the worktree's
   * own projects, as `npm ci` links them there. (One link to this checkout's node_modules would resolve a test's
   * `@mailwarden/testing` outside the worktree, and Nx would drop that edge from the worktree's graph.)
   */
  function linkNodeModules(worktree: string): void {
    const modules = path.join(worktree, 'node_modules');
    mkdirSync(path.join(modules, '@mailwarden'), { recursive: true });
    for (const entry of readdirSync(path.join(ROOT, 'node_modules'))) {
      if (entry !== '@mailwarden') symlinkSync(path.join(ROOT, 'node_modules', entry), path.join(modules, entry));
    }
    for (const pkg of readdirSync(path.join(ROOT, 'node_modules', '@mailwarden'))) {
      symlinkSync(readlinkSync(path.join(ROOT, 'node_modules', '@mailwarden', pkg)), path.join(modules, '@mailwarden', pkg));
    }
  }

  /** The projects `nx affected` picks (all of them, and those with a `test-int` target) after `change` in a scratch worktree of HEAD. */
  function affectedBy(changes: Record<string, string>): { projects: string[]; testInt: string[] } {
    const scratch = mkdtempSync(path.join(tmpdir(), 'mw-affected-'));
    const worktree = path.join(scratch, 'repo');
    try {
      execFileSync('git', ['worktree', 'add', '--detach', worktree, 'HEAD'], { cwd: ROOT, stdio: 'ignore' });
      linkNodeModules(worktree);
      for (const [file, text] of Object.entries(changes)) appendFileSync(path.join(worktree, file), text);
      const show = (...extra: string[]) => (JSON.parse(nx(worktree, ['show', 'projects', '--affected', '--base=HEAD', '--json', ...extra])) as string[]).sort();
      return { projects: show(), testInt: show('--withTarget=test-int') };
    } finally {
      execFileSync('git', ['worktree', 'remove', '--force', worktree], { cwd: ROOT, stdio: 'ignore' });
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  it('should have `nx affected` pick exactly the projects that depend on a changed domain lib', () => {
    // A domain lib: affected = it and everything that depends on it, however indirectly. (Its own dependencies, such
    // as libs/testing for its specs' journal builder, are not affected.)
    expect(deps.get('journal')?.filter((dep) => dep !== 'testing')).toEqual([]);
    const { projects } = affectedBy({ 'libs/journal/src/index.ts': '\nexport const AFFECTED_PROBE = 1;\n' });
    expect(projects).toEqual(dependentsOf(deps, ['journal']));
    expect(projects).toEqual(expect.arrayContaining(['journal', 'delivery', 'scanning', 'journal-ingest', 'scanner', 'platform-e2e']));
    expect(projects.filter((name) => ['config', 'db', 'db-int', 'policy', 'auth', 'observability', 'queue', 'testing'].includes(name))).toEqual([]);
  }, 300_000);

  it("should have `nx affected -t test-int` run the cross-app suites when the scanner changes, and no other app's", () => {
    // journal-crash, journal-ingest, export-worker, mode-migrations-mail and metrics start the scanner (in process or
    // as a child process): they are platform-e2e's, which depends on the scanner; the fault suites are tools'.
    const { projects, testInt } = affectedBy({ 'apps/scanner/src/scanner.app.ts': '\nexport const AFFECTED_PROBE = 1;\n' });
    expect(projects).toEqual(dependentsOf(deps, ['scanner']));
    expect(projects).toEqual(['console-e2e', 'platform-e2e', 'scanner', 'tools']);
    expect(testInt).toEqual(['platform-e2e', 'scanner', 'tools']);
  }, 300_000);

  it("should have `nx affected -t test-int` run db's own int-specs (db-int) and the suites above db when libs/db changes", () => {
    const { projects, testInt } = affectedBy({ 'libs/db/src/index.ts': '\nexport const AFFECTED_PROBE = 1;\n' });
    expect(projects).toEqual(dependentsOf(deps, ['db']));
    expect(testInt).toEqual(expect.arrayContaining(['db-int', 'testing', 'platform-e2e', 'scanner', 'journal-ingest', 'admin-api', 'tools']));
    // db's own dependencies are not affected.
    expect(projects.filter((name) => ['config', 'observability'].includes(name))).toEqual([]);
  }, 300_000);
});
