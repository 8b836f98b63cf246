import { describe, expect, test } from 'vitest';
import { Transcript } from '../transcript.ts';
import type { VerifyReport } from '../types.ts';
import { modelFromEvents, type Row } from '../../inspector/index.ts';
import { renderDiagram, transcriptDiagram } from './diagram.ts';
import { formatCheck, formatHeader, renderText } from './text.ts';

function sampleTranscript(): Transcript {
  const transcript = new Transcript();
  transcript.add({ conn: 'alice', kind: 'connect' });
  transcript.add({ conn: 'alice', kind: 'read', raw: Buffer.from('{"type":"hello","protocol":"chatlab/1"}\n'), index: 1 });
  transcript.add({ conn: 'alice', kind: 'recv', raw: Buffer.from('{"type":"hello","protocol":"chatlab/1"}\n'), frame: { type: 'hello', protocol: 'chatlab/1' }, reads: { first: 1, last: 1 } });
  transcript.add({ conn: 'alice', kind: 'send', raw: Buffer.from('{"type":"say","text":"hi 👋"}\n'), frame: { type: 'say', text: 'hi 👋' }, writes: 3, frames: 1 });
  transcript.add({
    conn: 'alice',
    kind: 'recv',
    raw: Buffer.from('{"type":"message","from":"alice","text":"hi 👋","ts":1}\n'),
    frame: { type: 'message', from: 'alice', text: 'hi 👋', ts: 1 },
    reads: { first: 2, last: 3 },
  });
  transcript.add({ conn: 'alice', kind: 'close', by: 'peer', detail: 'closed its side (FIN)' });
  return transcript;
}

describe('the failure diagram', () => {
  test("is the inspector's picture: a column per connection, one arrow per frame with its step and summary, the culprit marked", () => {
    const lines = renderDiagram(sampleTranscript().toJSON(), { mode: 'server', culprit: 5 });
    expect(lines[0]).toMatch(/^ +time step +server +alice$/);
    expect(lines[1]).toMatch(/^ +\+0\.\d{3}s \[2\] +│◀╌+ ?(connect)? ?╌*┤ +(connect )?TCP connection accepted$/);
    expect(lines[2]).toMatch(/\[3\] +├─+ ?(hello)? ?─*▶│ +(hello )?chatlab\/1$/);
    expect(lines[3]).toMatch(/\[6\] +│◀─+ ?(say)? ?─*┤ +(say )?"hi 👋" \(in 3 writes\)$/);
    expect(lines[4]).toMatch(/\[7\] +├─+ ?(message)? ?─*▶│ +(message )?alice: "hi 👋" \(reads 2–3\) ✗$/);
    expect(lines[5]).toMatch(/\[10\] +├╌+ ?(FIN)? ?╌*▶│ +(FIN )?server closed its side \(FIN\)$/);
    expect(lines.filter((line) => line.includes('✗'))).toHaveLength(1);
  });

  test('draws what the inspector draws from the same bytes', () => {
    const model = modelFromEvents([
      { kind: 'open', t: 0, conn: 1, peer: 'alice' },
      { kind: 'upstream', t: 0, conn: 1, local: '127.0.0.1:1' },
      { kind: 'data', t: 1, conn: 1, dir: 's2c', read: 1, bytes: Buffer.from('{"type":"hello","protocol":"chatlab/1"}\n') },
      { kind: 'data', t: 2, conn: 1, dir: 'c2s', read: 1, bytes: Buffer.from('{"type":"login","user":"alice","password":"pw","id":1}\n') },
      { kind: 'data', t: 3, conn: 1, dir: 's2c', read: 2, bytes: Buffer.from('{"type":"welcome","user":"alice","users":["alice"],"id":1}\n') },
      { kind: 'data', t: 4, conn: 1, dir: 'c2s', read: 2, bytes: Buffer.from('{"type":"quit","id":2}\n') },
      { kind: 'data', t: 5, conn: 1, dir: 's2c', read: 3, bytes: Buffer.from('{"type":"ok","id":2}\n') },
      { kind: 'end', t: 6, conn: 1, dir: 's2c' },
    ]);
    const transcript = new Transcript();
    transcript.add({ conn: 'alice', kind: 'connect' });
    for (const row of model.rows.filter((r) => r.kind === 'frame')) {
      const frame = row.item?.kind === 'frame' ? row.item.frame : { type: 'none' };
      const raw = Buffer.from(`${JSON.stringify(frame)}\n`);
      if (row.dir === 'c2s') transcript.add({ conn: 'alice', kind: 'send', raw, frame, writes: 1, frames: 1 });
      else transcript.add({ conn: 'alice', kind: 'recv', raw, frame, reads: { first: 1, last: 1 } });
    }
    transcript.add({ conn: 'alice', kind: 'close', by: 'peer', detail: 'closed its side (FIN)' });
    const shape = (rows: readonly Row[]) =>
      rows.filter((r) => r.kind !== 'listen' && r.kind !== 'rename').map(({ kind, label, summary, step, from, to }) => ({ kind, label, summary, step, from, to }));
    const adapted = transcriptDiagram(transcript.toJSON(), { mode: 'server' });
    expect(shape(adapted.rows)).toEqual(shape(model.rows).map((row) => (row.kind === 'connect' ? { ...row, summary: 'TCP connection accepted' } : row)));
    expect(adapted.rows.map((r) => r.step)).toEqual([2, 3, 4, 5, 8, 9, 10]);
  });

  test("in client mode the verifier is the server column and the client's stdio are notes on its lifeline", () => {
    const transcript = new Transcript();
    transcript.add({ conn: 'client', kind: 'connect' });
    transcript.add({ conn: 'client', kind: 'send', raw: Buffer.from('{"type":"hello","protocol":"chatlab/1"}\n'), frame: { type: 'hello', protocol: 'chatlab/1' }, writes: 1, frames: 1 });
    transcript.add({ conn: 'client', kind: 'stdin', text: 'hello there' });
    transcript.add({ conn: 'client', kind: 'recv', raw: Buffer.from('{"type":"say","text":"hello there"}\n'), frame: { type: 'say', text: 'hello there' }, reads: { first: 1, last: 1 } });
    const lines = renderDiagram(transcript.toJSON(), { mode: 'client' });
    expect(lines[0]).toMatch(/^ +time step +verifier \(server\) +client$/);
    expect(lines[2]).toMatch(/\[3\] +├─+ ?(hello)? ?─*▶│ +(hello )?chatlab\/1$/);
    expect(lines[3]).toMatch(/ ● +\[stdin\] hello there$/);
    expect(lines[4]).toMatch(/\[6\] +│◀─+ ?(say)? ?─*┤ +(say )?"hello there"$/);
  });

  test('draws raw TCP reads only when asked', () => {
    expect(renderDiagram(sampleTranscript().toJSON(), { mode: 'server' }).some((line) => line.includes('read #1'))).toBe(false);
    const lines = renderDiagram(sampleTranscript().toJSON(), { mode: 'server', showReads: true });
    expect(lines[2]).toMatch(/┄.*\{"type":"hello","protocol":"chatlab\/1"\}<LF>$/);
    expect(lines[2]).toContain('read #1');
  });

  test('keeps a culprit older than the last events in view, with the events around it, and says what was left out', () => {
    const transcript = new Transcript();
    for (let n = 1; n <= 40; n++) transcript.add({ conn: 'alice', kind: 'send', raw: Buffer.from(`{"type":"say","text":"n${n}"}\n`), frame: { type: 'say', text: `n${n}` }, writes: 1, frames: 1 });
    const lines = renderDiagram(transcript.toJSON(), { mode: 'server', culprit: 10, max: 12 });
    expect(lines[1]).toContain('… 6 earlier events not shown');
    expect(lines.slice(2, 9).map((line) => /"(n\d+)"/.exec(line)?.[1])).toEqual(['n7', 'n8', 'n9', 'n10', 'n11', 'n12', 'n13']);
    expect(lines[5]).toMatch(/"n10".* ✗$/);
    expect(lines[9]).toContain('… 22 events not shown');
    expect(lines.slice(10).map((line) => /"(n\d+)"/.exec(line)?.[1])).toEqual(['n36', 'n37', 'n38', 'n39', 'n40']);
  });

  test('shows only the last events, and says how many were left out', () => {
    const lines = renderDiagram(sampleTranscript().toJSON(), { mode: 'server', max: 2 });
    expect(lines[1]).toBe('… 3 earlier events not shown');
    expect(lines).toHaveLength(4);
  });

  test('colours as the inspector does when asked, and only then', () => {
    expect(renderDiagram(sampleTranscript().toJSON(), { mode: 'server' }).join('\n')).not.toContain('\u001b[');
    expect(renderDiagram(sampleTranscript().toJSON(), { mode: 'server', color: true }).join('\n')).toContain('\u001b[');
  });
});

describe('the text report', () => {
  const report: VerifyReport = {
    mode: 'server',
    passed: false,
    through: 10,
    address: { host: '127.0.0.1', port: 7070 },
    checks: [
      { id: '1.listens', step: 1, stepName: 'listen', title: 'the server accepts TCP connections on its port', status: 'passed', durationMs: 3 },
      {
        id: '7.no-echo',
        step: 7,
        stepName: 'relay',
        title: 'the sender gets no copy of its own message',
        status: 'failed',
        durationMs: 5,
        failure: { summary: 'alice got its own message back', received: '{"type":"message"}<LF>', hint: 'relay to every logged-in user except the sender', culprit: 5 },
      },
      { id: '8.quit-read', step: 8, stepName: 'quit', title: 'a quit is read', status: 'skipped', durationMs: 0 },
    ],
    failedStep: 7,
    counts: { passed: 1, failed: 1, skipped: 1 },
    process: { command: ['python3', 'server.py'], exitCode: null, signal: 'SIGTERM', exitedEarly: false, output: [{ stream: 'stderr', text: 'Traceback …', atMs: 5 }] },
    transcript: sampleTranscript().toJSON(),
    durationMs: 1234,
  };

  test('one line per check run, the diagnosis, the tagged output and where it stopped', () => {
    const text = renderText(report);
    expect(text).toContain(' ✓  1 listen             the server accepts TCP connections on its port');
    expect(text).toContain(' ✗  7 relay              the sender gets no copy of its own message');
    expect(text).not.toContain('a quit is read');
    expect(text).toContain('     hint: relay to every logged-in user except the sender');
    expect(text).toContain('     [server stderr] Traceback …');
    expect(text).toContain('Stopped at step 7 (relay): 1 passed, 1 failed, 1 not run (1.2 s). Fix it and run again.');
  });

  test('colours only when asked', () => {
    expect(formatCheck(report.checks[0]!, false)).not.toContain('\u001b[');
    expect(formatCheck(report.checks[0]!, true)).toContain('\u001b[');
  });
});

describe('formatHeader', () => {
  test('says when the server is checked over UDP', () => {
    expect(formatHeader({ mode: 'server', host: '127.0.0.1', port: 7070, command: ['node', 'server.mjs'], through: 10, udp: true })).toBe(
      'chatlab verify: node server.mjs on 127.0.0.1:7070 (steps 1–10, over UDP; Ctrl-C to stop)',
    );
    expect(formatHeader({ mode: 'server', host: '127.0.0.1', port: 7070, command: ['node', 'server.mjs'], through: 10 })).toBe(
      'chatlab verify: node server.mjs on 127.0.0.1:7070 (steps 1–10; Ctrl-C to stop)',
    );
  });
});
