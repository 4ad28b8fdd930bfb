import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** The relative imports (type-only ones too) of every non-test source file of libs/db, generated client aside. */
function importGraph(root: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const visit = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const file = path.join(dir, name);
      if (statSync(file).isDirectory()) {
        if (name !== 'generated') {
          visit(file);
        }
      } else if (name.endsWith('.ts') && !name.endsWith('spec.ts')) {
        const targets = [...readFileSync(file, 'utf8').matchAll(/from '(\.[^']*)'/g)]
          .map((match) => path.resolve(dir, match[1]!))
          .flatMap((target) => [`${target}.ts`, path.join(target, 'index.ts')].filter((candidate) => existsSync(candidate)).slice(0, 1));
        graph.set(file, targets);
      }
    }
  };
  visit(root);
  return graph;
}

function findCycles(graph: Map<string, string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[][] = [];
  const walk = (file: string, stack: string[]): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') {
        cycles.push([...stack.slice(stack.indexOf(next)), next]);
      } else if (!state.has(next)) {
        walk(next, stack);
      }
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) {
    if (!state.has(file)) {
      walk(file, []);
    }
  }
  return cycles;
}

describe('libs/db imports', () => {
  const root = path.resolve(__dirname);

  it('should have no import cycle between its files (shared types live in src/types and <aggregate>.types.ts)', () => {
    const graph = importGraph(root);
    expect(graph.size).toBeGreaterThan(30);
    const cycles = findCycles(graph).map((cycle) => cycle.map((file) => path.relative(root, file)).join(' -> '));
    expect(cycles).toEqual([]);
  });

  it('should see a cycle when there is one', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(findCycles(graph)).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
  });
});
