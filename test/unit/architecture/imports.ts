// The import graph of src/, read from the sources (static `import ... from` and `export ... from`).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export interface ImportEdge {
  from: string;
  /** A path under src/ (e.g. "src/engine/copy/index.ts") or a package name ("bullmq"). */
  to: string;
  typeOnly: boolean;
}

const SPECIFIER = /^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

export function importGraph(root = 'src'): { files: string[]; edges: ImportEdge[] } {
  const files = sourceFiles(root).map((f) => relative('.', f));
  const edges: ImportEdge[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(SPECIFIER)) {
      const spec = m[3]!;
      const typeOnly = m[2] !== undefined;
      const to = spec.startsWith('.')
        ? relative('.', resolve(dirname(file), spec.replace(/\.js$/, '.ts')))
        : spec.startsWith('node:')
          ? spec
          : spec
              .split('/')
              .slice(0, spec.startsWith('@') ? 2 : 1)
              .join('/');
      edges.push({ from: file, to, typeOnly });
    }
  }
  return { files, edges };
}

/** Import cycles among the files (each as a path, first file repeated at the end). */
export function cycles(edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) if (e.to.startsWith('src/')) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, 'open');
    stack.push(f);
    for (const t of next.get(f) ?? []) {
      if (state.get(t) === 'open') found.push([...stack.slice(stack.indexOf(t)), t]);
      else if (!state.has(t)) visit(t);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of next.keys()) if (!state.has(f)) visit(f);
  return found;
}
