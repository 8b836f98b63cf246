import { describe, expect, test } from 'vitest';
import { Transcript } from '../transcript.ts';
import type { VerifyReport } from '../types.ts';
import { renderDiagram } from './diagram.ts';
import { formatCheck, formatHeader, renderText } from './text.ts';

function sampleTranscript(): Transcript {
  const transcript = new Transcript();
  transcript.add({ conn: 'alice', kind: 'connect' });
  transcript.add({ conn: 'alice', kind: 'read', raw: Buffer.from('{"type":"hello","protocol":"chatlab/1"}\n'), index: 1 });
  transcript.add({ conn: 'alice', kind: 'recv', raw: Buffer.from('{"type":"hello","protocol":"chatlab/1"}\n'), frame: { type: 'hello', protocol: 'chatlab/1' }, reads: { first: 1, last: 1 } });
  transcript.add({ conn: 'alice', kind: 'send', raw: Buffer.from('{"type":"say","text":"hi 👋"}\n'), frame: { type: 'say', text: 'hi 👋' }, writes: 3, frames: 1 });
  transcript.add({ conn: 'alice', kind: 'recv', raw: Buffer.from('{"type":"message","from":"alice","text":"hi 👋","ts":1}\n'), frame: { type: 'message', from: 'alice', text: 'hi 👋', ts: 1 }, reads: { first: 2, last: 3 } });
  transcript.add({ conn: 'alice', kind: 'close', by: 'peer', detail: 'closed its side (FIN)' });
  return transcript;
}

describe('the failure diagram', () => {
  test('draws one arrow per frame, each way, with a short summary and the culprit marked', () => {
    const lines = renderDiagram(sampleTranscript().toJSON(), { self: 'verifier', peer: 'server', culprit: 5 });
    expect(lines[0]).toMatch(/^\s+verifier\s+server$/);
    expect(lines[2]).toMatch(/alice {2}│◀─+ hello protocol="chatlab\/1" │$/);
    expect(lines[3]).toMatch(/alice {2}│ say "hi 👋" \(in 3 writes\) ─+▶│$/);
    expect(lines[4]).toMatch(/│◀─+ message from="alice" "hi 👋" \(reads 2–3\) │ {2}✗$/);
    expect(lines[5]).toContain('╳ server closed its side (FIN)');
  });

  test('draws raw TCP reads only when asked', () => {
    const lines = renderDiagram(sampleTranscript().toJSON(), { self: 'verifier', peer: 'server', showReads: true });
    expect(lines[2]).toMatch(/│◀─+ read #1: \{"type":"hello","protocol":"chatlab\/1"\}<LF> │$/);
  });

  test('shows only the last events, and says how many were left out', () => {
    const lines = renderDiagram(sampleTranscript().toJSON(), { self: 'verifier', peer: 'server', max: 2 });
    expect(lines[1]).toContain('… 3 earlier events not shown');
    expect(lines).toHaveLength(4);
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
    expect(formatHeader({ mode: 'server', host: '127.0.0.1', port: 7070, command: ['node', 'server.mjs'], through: 10, udp: true })).toBe('chatlab verify: node server.mjs on 127.0.0.1:7070 (steps 1–10, over UDP; Ctrl-C to stop)');
    expect(formatHeader({ mode: 'server', host: '127.0.0.1', port: 7070, command: ['node', 'server.mjs'], through: 10 })).toBe('chatlab verify: node server.mjs on 127.0.0.1:7070 (steps 1–10; Ctrl-C to stop)');
  });
});
