import type { IncomingMessage, ServerResponse } from 'node:http';
import { detailLines, exportMermaid, exportStamp, exportSvg, type Row, type SessionModel } from '../inspector/index.ts';
import type { DiagramRowDetail } from './diagram-row.ts';
import type { InspectorFeed } from './inspector-feed.ts';
import { refuse, SECURITY_HEADERS } from './static-files.ts';

/** The page's downloads: path → file extension and content type. Each is the whole session so far. */
export const EXPORT_PATHS: Readonly<Record<string, { ext: string; type: string }>> = {
  '/export.svg': { ext: 'svg', type: 'image/svg+xml; charset=utf-8' },
  '/export.mmd': { ext: 'mmd', type: 'text/vnd.mermaid; charset=utf-8' },
  '/export.jsonl': { ext: 'jsonl', type: 'application/x-ndjson; charset=utf-8' },
};
/** The detail of one row: `GET /row-detail?id=N` answers a {@link DiagramRowDetail}. */
export const ROW_DETAIL_PATH = '/row-detail';
/** Most lines a row's detail sends (a 64 KiB file chunk is 4,096 lines of hex). */
export const MAX_DETAIL_LINES = 1_000;

/** The row with `id` (rows are kept in id order, the oldest dropped first), if still kept. */
function findRow(rows: readonly Row[], id: number): Row | undefined {
  let low = 0;
  let high = rows.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const row = rows[middle] as Row;
    if (row.id === id) return row;
    if (row.id < id) low = middle + 1;
    else high = middle - 1;
  }
  return undefined;
}

/** The detail pane's lines for row `id` of `model`, cut at {@link MAX_DETAIL_LINES}. */
export function rowDetail(model: SessionModel, id: number): DiagramRowDetail | undefined {
  const row = findRow(model.rows, id);
  if (!row) return undefined;
  const lines = detailLines(model, row);
  if (lines.length <= MAX_DETAIL_LINES) return { id, lines };
  return { id, lines: [...lines.slice(0, MAX_DETAIL_LINES), [{ text: `… ${lines.length - MAX_DETAIL_LINES} more lines (export the session to see them all)`, style: 'dim' }]] };
}

/** The text of one export of the session so far, made by the same code as `chatlab inspect export` and `--record`. */
function exportText(feed: InspectorFeed, model: SessionModel, ext: string): string {
  if (ext === 'svg') return exportSvg(model);
  if (ext === 'mmd') return exportMermaid(model);
  return feed.trace.text();
}

/**
 * Answers the inspector page's GET routes that are not files: the exports ({@link EXPORT_PATHS},
 * downloaded as `chatlab-session-<stamp>.<ext>`) and a row's detail ({@link ROW_DETAIL_PATH}).
 * Returns false for any other path (a file of the built app). The caller has checked the Host.
 */
export function answerInspectorRoute(feed: InspectorFeed, request: IncomingMessage, response: ServerResponse): boolean {
  const url = new URL(request.url ?? '/', 'http://x');
  const download = EXPORT_PATHS[url.pathname];
  if (!download && url.pathname !== ROW_DETAIL_PATH) return false;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { ...SECURITY_HEADERS, allow: 'GET, HEAD' }).end();
    return true;
  }
  const model = feed.session;
  if (!model) {
    refuse(response, 503, 'the inspector is starting: try again in a moment');
    return true;
  }
  if (download) {
    const body = Buffer.from(exportText(feed, model, download.ext));
    response.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': download.type,
      'content-length': body.length,
      'content-disposition': `attachment; filename="chatlab-session-${exportStamp(new Date())}.${download.ext}"`,
    });
    response.end(request.method === 'HEAD' ? undefined : body);
    return true;
  }
  const id = Number(url.searchParams.get('id'));
  const detail = Number.isSafeInteger(id) ? rowDetail(model, id) : undefined;
  if (!detail) {
    refuse(response, 404, 'no such row (the inspector keeps only the newest rows)');
    return true;
  }
  const body = Buffer.from(JSON.stringify(detail));
  response.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
  response.end(request.method === 'HEAD' ? undefined : body);
  return true;
}
