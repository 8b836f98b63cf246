import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SessionModel } from './session-model.ts';
import { tenStepSession } from '../../test-support/event-script.ts';
import { parseTrace, readTrace, serializeEvent, TraceError, TraceWriter } from './trace.ts';

describe('trace files', () => {
  it('write and read back every event exactly, bytes included', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chatlab-trace-'));
    try {
      const path = join(dir, 't.jsonl');
      const writer = new TraceWriter(path);
      await writer.opened;
      const model = new SessionModel();
      const events = tenStepSession().bytes(1, 's2c', Buffer.from([0xff, 0x00, 0x0a])).events;
      for (const event of events) writer.write(event, model.apply(event));
      await writer.close();
      expect(await readTrace(path)).toEqual(events);
      const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
      expect(lines).toHaveLength(events.length + 1);
      const binary = JSON.parse(lines[lines.length - 1] as string) as Record<string, unknown>;
      expect(binary.bytes).toBe('/wAK');
      expect(binary).not.toHaveProperty('text');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stores what the model decoded beside each event', () => {
    const model = new SessionModel();
    const events = tenStepSession().events;
    let line = '';
    for (const event of events) {
      const rows = model.apply(event);
      if (!line && rows.some((r) => r.label === 'welcome')) line = serializeEvent(event, rows);
    }
    expect(JSON.parse(line)).toMatchObject({
      kind: 'data',
      dir: 's2c',
      text: '{"type":"welcome","user":"alice","users":["alice"]}\n',
      decoded: [
        { kind: 'frame', label: 'welcome', step: 5, frame: { type: 'welcome', user: 'alice' } },
        { kind: 'rename', label: 'named', summary: '127.0.0.1:50001 is now alice', step: null },
      ],
    });
  });

  it('names the file and line of anything it cannot read', async () => {
    const bad = (text: string) => () => parseTrace(text, 'x.jsonl');
    expect(bad('')).toThrow(new TraceError('x.jsonl: empty file: not a chatlab trace'));
    expect(bad('{"kind":"open","t":1,"conn":1}\n')).toThrow(/^x\.jsonl:1: not a chatlab trace/);
    expect(bad('{"kind":"trace","version":1}\nnot json\n')).toThrow('x.jsonl:2: not a JSON line (is this a chatlab trace recorded with --record?)');
    expect(bad('{"kind":"trace","version":1}\n{"kind":"data","t":1,"conn":1,"dir":"c2s","read":1}\n')).toThrow('x.jsonl:2: "data" event has no base64 "bytes"');
    expect(bad('{"kind":"trace","version":1}\n{"kind":"end","t":1,"conn":1,"dir":"up"}\n')).toThrow('x.jsonl:2: "end" event has no "dir" (c2s or s2c)');
    expect(bad('{"kind":"trace","version":1}\n{"kind":"teleport","t":1}\n')).toThrow('x.jsonl:2: unknown event kind "teleport"');
    expect(bad('{"kind":"trace","version":9}\n')).toThrow(/version 9 is newer/);
    await expect(readTrace('/nonexistent/nope.jsonl')).rejects.toThrow('/nonexistent/nope.jsonl: no such trace file');
  });
});
