import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// The Nx project graph is the build's: every project builds after the projects it depends on (`dependsOn: ["^build"]`)
// and `nx affected` picks projects along it. This proves the graph is layered (apps → feature libs → domain and data
// libs → util libs), has no cycle (Nx refuses to run a cyclic task graph), agrees with the packages' dependencies
// and the TypeScript project references, and that `nx affected` picks exactly the projects a sample change touches.
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

/** The layer of a project from its `type:` tag: a project may depend only on its own layer or lower ones. */
const LAYER: Record<string, number> = { 'type:app': 4, 'type:tool': 4, 'type:feature': 3, 'type:domain': 2, 'type:data': 2, 'type:util': 1 };

describe('the Nx project graph', () => {
  let graph: Graph;
  let deps: Map<string, string[]>;

  beforeAll(() => {
    graph = readGraph(ROOT);
    deps = edges(graph);
  }, 120_000);

  it('should have no cycle', () => {
    expect(findCycle(deps)).toBeNull();
  });

  it('should go from apps to feature libs to domain and data libs, never upwards', () => {
    const typeOf = (name: string) => (graph.nodes[name].data.tags ?? []).find((tag) => tag.startsWith('type:')) ?? 'none';
    const upward: string[] = [];
    for (const [source, targets] of deps) {
      for (const target of targets) {
        // libs/testing serves every project's tests; its own dependencies are held to the data layer below.
        if (typeOf(target) === 'type:testing') continue;
        const from = typeOf(source) === 'type:testing' ? LAYER['type:data'] + 1 : LAYER[typeOf(source)];
        const to = LAYER[typeOf(target)];
        // An app may depend on another app only to build against it or test with it (console, console-e2e).
        const appToApp = typeOf(source) === 'type:app' && typeOf(target) === 'type:app' && source.startsWith('console');
        if (!(to <= from) && !appToApp) upward.push(`${source} (${typeOf(source)}) → ${target} (${typeOf(target)})`);
        if (typeOf(source) === 'type:app' && typeOf(target) === 'type:app' && !appToApp) upward.push(`${source} → ${target}`);
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

  it('should have `nx affected` pick exactly the projects that depend on a changed domain lib', () => {
    // A domain lib, changed in a scratch worktree of HEAD: affected = it and everything that depends on it, however
    // indirectly. (Its own dependencies, such as libs/testing for its specs' journal builder, are not affected.)
    expect(deps.get('journal')?.filter((dep) => dep !== 'testing')).toEqual([]);
    const dependents = new Set(['journal']);
    for (let grew = true; grew; ) {
      grew = false;
      for (const [source, targets] of deps) {
        if (!dependents.has(source) && targets.some((target) => dependents.has(target))) {
          dependents.add(source);
          grew = true;
        }
      }
    }
    const scratch = mkdtempSync(path.join(tmpdir(), 'mw-affected-'));
    const worktree = path.join(scratch, 'repo');
    try {
      execFileSync('git', ['worktree', 'add', '--detach', worktree, 'HEAD'], { cwd: ROOT, stdio: 'ignore' });
      symlinkSync(path.join(ROOT, 'node_modules'), path.join(worktree, 'node_modules'));
      appendFileSync(path.join(worktree, 'libs', 'journal', 'src', 'index.ts'), '\nexport const AFFECTED_PROBE = 1;\n');
      const affected = nx(worktree, ['show', 'projects', '--affected', '--base=HEAD', '--json']);
      const picked = (JSON.parse(affected) as string[]).sort();
      expect(picked).toEqual([...dependents].sort());
      expect(picked).toEqual(expect.arrayContaining(['journal', 'delivery', 'scanning', 'journal-ingest', 'scanner']));
      expect(picked.filter((name) => ['config', 'db', 'policy', 'auth', 'observability', 'queue'].includes(name))).toEqual([]);
    } finally {
      execFileSync('git', ['worktree', 'remove', '--force', worktree], { cwd: ROOT, stdio: 'ignore' });
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 180_000);
});
