import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from '../src/demo/scenario.ts';
import { exportMermaid, exportSvg, exportText, modelFromEvents, readTrace, startInspector, type Inspector, type Row, type SessionModel } from '../src/inspector/index.ts';
import { PlainView } from '../src/inspector/views/plain.ts';
import { startTestServer, type TestServer } from '../test-support/chat-server.ts';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '..', 'bin', 'chatlab.js');

let dir: string;
let chat: TestServer;
let live: SessionModel;
let tracePath: string;

const shape = (row: Row) => ({ t: row.t, kind: row.kind, label: row.label, summary: row.summary, step: row.step, from: row.from, to: row.to, raw: row.item?.raw.toString('hex') });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chatlab-inspect-'));
  tracePath = join(dir, 'session.jsonl');
  chat = await startTestServer();
  const inspector: Inspector = await startInspector({ target: { host: '127.0.0.1', port: chat.port }, record: tracePath, view: 'none' });
  await runScenario({ host: inspector.address.host, port: inspector.address.port, timeoutMs: 5_000 });
  await inspector.waitFor((m) => m.counters.connections === 3 && m.counters.open === 0, 5_000, 'all three connections to close');
  await inspector.stop();
  live = inspector.model;
});

afterAll(async () => {
  await chat?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('record → replay → export', () => {
  it('the live session through the reference server lit all ten steps', () => {
    expect(live.allStepsSeen).toBe(true);
    expect(live.lifelines.map((l) => l.name)).toEqual(['server', 'alice', 'bob', 'carol']);
    const offline = live.rows.filter((r) => r.item?.kind === 'frame' && r.item.frame.type === 'presence' && r.item.frame.status === 'offline');
    expect(offline.map((r) => r.summary)).toContain('carol offline (connection_lost)');
  });

  it('the trace holds every event with its exact bytes and decoded frames', async () => {
    const lines = (await readFile(tracePath, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ kind: 'trace', version: 1 });
    expect(lines[1]).toMatchObject({ kind: 'listening', target: { host: '127.0.0.1', port: chat.port }, framing: 'auto' });
    const say = lines.find((l) => l.kind === 'data' && typeof l.text === 'string' && l.text.includes('"say"'));
    expect(say).toMatchObject({ dir: 'c2s', conn: 1, decoded: [{ kind: 'frame', label: 'say', step: 6, frame: { type: 'say', text: 'hello everyone 👋' } }] });
    expect(Buffer.from(say?.bytes as string, 'base64').toString()).toBe(say?.text);
  });

  it('replaying the trace rebuilds exactly the same diagram', async () => {
    const replayed = modelFromEvents(await readTrace(tracePath));
    expect(replayed.rows.map(shape)).toEqual(live.rows.map(shape));
    expect(replayed.lifelines).toEqual(live.lifelines);
    expect(replayed.counters).toEqual(live.counters);
    expect(exportText(replayed)).toBe(exportText(live));
    expect(exportMermaid(replayed)).toBe(exportMermaid(live));
    expect(exportSvg(replayed)).toBe(exportSvg(live));
  });

  it('`chatlab inspect export` writes Mermaid and SVG equal to the live session', async () => {
    const mermaid = await run(process.execPath, [CLI, 'inspect', 'export', tracePath, '--format', 'mermaid']);
    expect(mermaid.stdout).toBe(exportMermaid(live));
    const svgPath = join(dir, 'session.svg');
    const svg = await run(process.execPath, [CLI, 'inspect', 'export', tracePath, '-o', svgPath]);
    expect(svg.stdout).toMatch(/^wrote svg diagram of \d+ rows to /);
    expect(await readFile(svgPath, 'utf8')).toBe(exportSvg(live));
  });

  it('`chatlab inspect replay --plain` plays it back in the plain view', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'inspect', 'replay', tracePath, '--plain']);
    const expected = new PassThrough();
    const chunks: Buffer[] = [];
    expected.on('data', (c: Buffer) => chunks.push(c));
    const model = modelFromEvents([]);
    const view = new PlainView(model, expected, { color: false });
    for (const event of await readTrace(tracePath)) view.addRows(model.apply(event));
    view.printSummary();
    await view.flushed();
    const lines = stdout.split('\n');
    expect(lines[0]).toMatch(/^chatlab inspect replay .*session\.jsonl: \d+ events$/);
    expect(lines.slice(1).join('\n')).toBe(Buffer.concat(chunks).toString());
    expect(stdout).toContain('10-step checklist: 10/10 seen — all green');
  });

  it('a broken trace gives one clear line and a non-zero exit', async () => {
    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, '{"kind":"trace","version":1}\n{"kind":"data","t":1,"conn":1}\n');
    const failure = await run(process.execPath, [CLI, 'inspect', 'export', bad]).catch((e: { code: number; stderr: string; stdout: string }) => e);
    expect(failure).toMatchObject({ code: 1, stdout: '' });
    expect((failure as { stderr: string }).stderr).toBe(`chatlab: ${bad}:2: "data" event has no base64 "bytes"\n`);
  });
});
