/**
 * Draws the architecture diagrams of the docs site as SVG, from the code itself: the module
 * graph is read from the `import` statements under src/, so the picture changes when the code
 * does. A small layered layout (longest path to a sink) is enough for a graph this size.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** One box of a diagram. */
export interface GraphNode {
  id: string;
  /** First line, bold. */
  label: string;
  /** Second line, small. */
  detail?: string;
  /** Row, 0 = bottom. Computed for module graphs. */
  layer?: number;
  /** Place in its row, left to right (default: by id). */
  order?: number;
}

/** One arrow of a diagram, from a box to another. */
export interface GraphEdge {
  from: string;
  to: string;
  label?: string;
}

/** A diagram to draw. */
export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** A module of src/ (a top-level folder) and what it imports from the other modules. */
export interface SourceModule {
  name: string;
  /** Source files, tests left out. */
  files: number;
  /** Other modules it imports (never itself). */
  imports: Set<string>;
}

const IMPORT_RE = /(?:^|\n)\s*(?:import|export)\s(?:[^'";]*?\sfrom\s*)?['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.ts$/.test(name) && !/\.test\.ts$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Reads every top-level folder of `srcDir` and the imports between them (tests excluded). */
export function scanModules(srcDir: string): SourceModule[] {
  const modules = new Map<string, SourceModule>();
  const names = readdirSync(srcDir).filter((name) => statSync(join(srcDir, name)).isDirectory());
  for (const name of names) modules.set(name, { name, files: 0, imports: new Set() });
  for (const name of names) {
    const module = modules.get(name) as SourceModule;
    for (const file of sourceFiles(join(srcDir, name))) {
      module.files++;
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(IMPORT_RE)) {
        const specifier = match[1] ?? match[2];
        if (!specifier) continue;
        const target = relative(srcDir, resolve(dirname(file), specifier));
        const top = target.split(sep)[0];
        if (top && top !== name && !top.startsWith('..') && modules.has(top)) module.imports.add(top);
      }
    }
  }
  return [...modules.values()].filter((m) => m.files > 0).sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The server's protocol rules and the seam around them, as the Architecture page draws them: file
 * stems under src/server, with the name each box shows. ChatCore sees clients only as `Peer` and
 * time only as `Clock`; the TCP side (ChatServer, Connection, Outbox) stands behind them.
 */
export const SERVER_SEAM: Readonly<Record<string, string>> = {
  'chat-server': 'ChatServer (TCP)',
  connection: 'Connection (TCP)',
  outbox: 'Outbox',
  'output-budget': 'OutputBudget',
  core: 'ChatCore (the rules)',
  transfers: 'FileRelay',
  'login-throttle': 'LoginThrottle',
  peer: 'Peer, PeerHandler',
  hub: 'Hub (who is where)',
  recipients: 'RecipientSet',
  clock: 'Clock',
};

/**
 * The inside of one module: the files of `dir` named in `files` (stems, e.g. `core`), each as a
 * {@link SourceModule} with the others of them it imports. For a picture of one seam, such as the
 * server's core and what stands behind it, without every helper file of the folder.
 */
export function scanFolder(dir: string, files: readonly string[]): SourceModule[] {
  const wanted = new Set(files);
  return files
    .filter((stem) => existsSync(join(dir, `${stem}.ts`)))
    .map((stem) => {
      const imports = new Set<string>();
      for (const match of readFileSync(join(dir, `${stem}.ts`), 'utf8').matchAll(IMPORT_RE)) {
        const specifier = match[1] ?? match[2];
        if (!specifier?.startsWith('./')) continue;
        const target = specifier.slice(2).replace(/\.ts$/, '');
        if (target !== stem && wanted.has(target)) imports.add(target);
      }
      return { name: stem, files: 1, imports };
    });
}

/**
 * The module graph as a diagram: an arrow from each module to each module it imports.
 * @param detailOf the small second line of a box (default: the folder and its number of files).
 */
export function moduleGraph(
  modules: SourceModule[],
  describe: (name: string) => string | undefined = () => undefined,
  detailOf: (module: SourceModule) => string = (m) => `src/${m.name} · ${m.files} file${m.files === 1 ? '' : 's'}`,
): Graph {
  const known = new Set(modules.map((m) => m.name));
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const byName = new Map(modules.map((m) => [m.name, m]));
  const layerOf = (name: string): number => {
    const cached = depth.get(name);
    if (cached !== undefined) return cached;
    if (visiting.has(name)) return 0; // a cycle: cut it here
    visiting.add(name);
    let layer = 0;
    for (const dep of byName.get(name)?.imports ?? []) if (known.has(dep)) layer = Math.max(layer, layerOf(dep) + 1);
    visiting.delete(name);
    depth.set(name, layer);
    return layer;
  };
  return {
    nodes: modules.map((m) => ({
      id: m.name,
      label: describe(m.name) ?? m.name,
      detail: detailOf(m),
      layer: layerOf(m.name),
    })),
    edges: modules.flatMap((m) =>
      [...m.imports]
        .filter((dep) => known.has(dep))
        .sort()
        .map((dep) => ({ from: m.name, to: dep })),
    ),
  };
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const BOX_W = 184;
const BOX_H = 52;
const GAP_X = 36;
const GAP_Y = 84;
const MARGIN = 24;

/** Renders a layered diagram (layer 0 at the bottom, arrows pointing down) as a standalone SVG. */
export function renderGraphSvg(graph: Graph, title: string): string {
  const layers = new Map<number, GraphNode[]>();
  for (const node of graph.nodes) {
    const layer = node.layer ?? 0;
    if (!layers.has(layer)) layers.set(layer, []);
    (layers.get(layer) as GraphNode[]).push(node);
  }
  const top = Math.max(0, ...layers.keys());
  const widest = Math.max(1, ...[...layers.values()].map((row) => row.length));
  const width = MARGIN * 2 + widest * BOX_W + (widest - 1) * GAP_X;
  const height = MARGIN * 2 + 28 + (top + 1) * BOX_H + top * GAP_Y;
  const position = new Map<string, { x: number; y: number }>();
  for (const [layer, row] of layers) {
    row.sort((a, b) => (a.order ?? 0) - (b.order ?? 0) || a.id.localeCompare(b.id));
    const rowWidth = row.length * BOX_W + (row.length - 1) * GAP_X;
    const x0 = (width - rowWidth) / 2;
    const y = MARGIN + 28 + (top - layer) * (BOX_H + GAP_Y);
    row.forEach((node, i) => position.set(node.id, { x: x0 + i * (BOX_W + GAP_X), y }));
  }
  // Spread each box's outgoing and incoming arrows along its edge so they do not overlap.
  const outgoing = new Map<string, GraphEdge[]>();
  const incoming = new Map<string, GraphEdge[]>();
  for (const edge of graph.edges) {
    if (!position.has(edge.from) || !position.has(edge.to)) continue;
    (outgoing.get(edge.from) ?? outgoing.set(edge.from, []).get(edge.from))!.push(edge);
    (incoming.get(edge.to) ?? incoming.set(edge.to, []).get(edge.to))!.push(edge);
  }
  const px = (id: string): number => (position.get(id) as { x: number }).x;
  const slot = (list: GraphEdge[], edge: GraphEdge, key: (e: GraphEdge) => number): number => {
    const sorted = [...list].sort((a, b) => key(a) - key(b));
    return ((sorted.indexOf(edge) + 1) / (sorted.length + 1)) * BOX_W;
  };
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(title)}">`,
    `<title>${escapeXml(title)}</title>`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#5c6370"/></marker></defs>',
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${MARGIN}" y="${MARGIN + 8}" font-family="system-ui, sans-serif" font-size="14" font-weight="600" fill="#24292f">${escapeXml(title)}</text>`,
  );
  for (const edge of graph.edges) {
    const from = position.get(edge.from);
    const to = position.get(edge.to);
    if (!from || !to) continue;
    const x1 = from.x + slot(outgoing.get(edge.from) as GraphEdge[], edge, (e) => px(e.to));
    const x2 = to.x + slot(incoming.get(edge.to) as GraphEdge[], edge, (e) => px(e.from));
    const sameRow = from.y === to.y;
    const y1 = sameRow ? from.y + BOX_H / 2 : from.y + BOX_H;
    const y2 = sameRow ? to.y + BOX_H / 2 : to.y;
    const bend = Math.max(30, Math.abs(y2 - y1) / 2);
    const d = sameRow ? `M${from.x + (from.x < to.x ? BOX_W : 0)},${y1} L${to.x + (from.x < to.x ? 0 : BOX_W)},${y2}` : `M${x1},${y1} C${x1},${y1 + bend} ${x2},${y2 - bend} ${x2},${y2}`;
    parts.push(`<path d="${d}" fill="none" stroke="#5c6370" stroke-width="1.4" marker-end="url(#arrow)"/>`);
    if (edge.label) {
      const lx = sameRow ? (from.x + to.x + BOX_W) / 2 : (x1 + x2) / 2 + 6;
      const ly = sameRow ? y1 - 6 : (y1 + y2) / 2;
      parts.push(`<text x="${lx}" y="${ly}" font-family="system-ui, sans-serif" font-size="11" fill="#57606a" text-anchor="${sameRow ? 'middle' : 'start'}">${escapeXml(edge.label)}</text>`);
    }
  }
  for (const node of graph.nodes) {
    const { x, y } = position.get(node.id) as { x: number; y: number };
    parts.push(
      `<g><rect x="${x}" y="${y}" width="${BOX_W}" height="${BOX_H}" rx="8" fill="#eef2ff" stroke="#3451b2" stroke-width="1.4"/>`,
      `<text x="${x + BOX_W / 2}" y="${y + (node.detail ? 22 : 31)}" font-family="system-ui, sans-serif" font-size="14" font-weight="600" fill="#1f2328" text-anchor="middle">${escapeXml(node.label)}</text>`,
      node.detail ? `<text x="${x + BOX_W / 2}" y="${y + 40}" font-family="ui-monospace, monospace" font-size="11" fill="#57606a" text-anchor="middle">${escapeXml(node.detail)}</text>` : '',
      '</g>',
    );
  }
  parts.push('</svg>');
  return parts.filter(Boolean).join('\n') + '\n';
}

/** The first sentence of the leading doc comment of `src/<name>/index.ts`, if any. */
export function moduleSummary(srcDir: string, name: string): string | undefined {
  const index = join(srcDir, name, 'index.ts');
  if (!existsSync(index)) return undefined;
  const match = /^\s*\/\*\*([\s\S]*?)\*\//.exec(readFileSync(index, 'utf8'));
  if (!match?.[1]) return undefined;
  const text = match[1]
    .replace(/^\s*\*\s?/gm, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return /^(.+?[.:;])(\s|$)/.exec(text)?.[1] ?? text;
}
