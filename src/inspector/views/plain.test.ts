import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SessionModel } from '../session-model.ts';
import { tenStepSession, tlsSession, type EventScript } from '../../../test-support/event-script.ts';
import { PlainView } from './plain.ts';

async function renderPlain(showReads = false, color = false, script: EventScript = tenStepSession()): Promise<string> {
  const model = new SessionModel({ showReads });
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const view = new PlainView(model, out, { color });
  for (const event of script.events) view.addRows(model.apply(event));
  view.printSummary();
  await view.flushed();
  return Buffer.concat(chunks).toString('utf8');
}

// The plain view of the reference 10-step session, exactly. Lifeline headers are printed again
// when a lifeline appears, gets its user name or ends.
const EXPECTED = String.raw`     time step      server        127.0.0.1:50001
  +0.011s [1]           ●                 │  server is listening on 127.0.0.1:7070 (it accepted a connection)
  +0.011s [2]           │◀╌╌╌ connect ╌╌╌╌┤  TCP connection from 127.0.0.1:50001 accepted
  +0.021s [3]           ├──── hello ─────▶│  chatlab/1
  +0.031s [4]           │◀──── login ─────┤  alice ••••
  +0.041s [5]           ├──── error ─────▶│  auth_failed: wrong user or password
  +0.051s [4]           │◀──── login ─────┤  alice ••••
     time step      server             alice
  +0.061s [5]           ├─── welcome ────▶│  alice; online: alice
  +0.061s               │                 ●  127.0.0.1:50001 is now alice
     time step      server             alice        127.0.0.1:50002
  +0.072s [2]           │◀╌╌╌╌╌╌╌╌╌╌╌╌ connect ╌╌╌╌╌╌╌╌╌╌╌╌╌┤  TCP connection from 127.0.0.1:50002 accepted
  +0.082s [3]           ├───────────── hello ──────────────▶│  chatlab/1
  +0.092s [4]           │◀───────────── login ──────────────┤  bob ••••
     time step      server             alice              bob
  +0.102s [5]           ├──────────── welcome ─────────────▶│  bob; online: alice, bob
  +0.102s               │                 │                 ●  127.0.0.1:50002 is now bob
  +0.112s [5]           ├── presence ────▶│                 │  bob online
  +0.122s [6]           │◀───── say ──────┤                 │  "hello 👋" [id 1]
  +0.132s [7]           ├──────────── message ─────────────▶│  alice: "hello 👋"
  +0.142s [7]           ├───── ok ───────▶│                 │  [id 1]
  +0.152s [8]           │◀───────────── quit ───────────────┤
  +0.162s [9]           ├────────────── bye ───────────────▶│
  +0.172s [9]           ├── presence ────▶│                 │  bob offline
  +0.182s [10]          │◀╌╌╌╌╌╌╌╌╌╌╌╌╌╌ FIN ╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌┤  client closed its side (FIN)
  +0.192s [10]          ├╌╌╌╌╌╌╌╌╌╌╌╌╌╌ FIN ╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌▶│  server closed its side (FIN)
     time step      server             alice
  +0.204s [8]           │◀──── quit ──────┤
  +0.214s [9]           ├───── bye ──────▶│
  +0.224s [10]          │◀╌╌╌╌╌ FIN ╌╌╌╌╌╌┤  client closed its side (FIN)
  +0.234s [10]          ├╌╌╌╌╌ FIN ╌╌╌╌╌╌▶│  server closed its side (FIN)

10-step checklist: 10/10 seen — all green
  ✔  1 listen             1×
  ✔  2 connect            2×
  ✔  3 accept             2×
  ✔  4 login              3×
  ✔  5 verify + announce  4×
  ✔  6 send               1×
  ✔  7 relay              2×
  ✔  8 quit               2×
  ✔  9 remove + announce  3×
  ✔ 10 disconnect         4×
connections 2 (0 open) · frames c2s 6 / s2c 11 · bytes c2s 231 / s2c 488 · reads c2s 6 / s2c 11 · bad 0
`;

describe('PlainView', () => {
  it('prints a full 10-step session as a text sequence diagram', async () => {
    expect(await renderPlain()).toBe(EXPECTED);
  });

  it('colours with ANSI only when asked', async () => {
    const coloured = await renderPlain(false, true);
    expect(coloured).toContain('\x1b[');
    expect(coloured.replace(/\x1b\[[0-9;]*m/g, '')).toBe(EXPECTED);
  });

  it('adds read rows with --show-reads', async () => {
    const text = await renderPlain(true);
    expect(text).toMatch(/┄+ read #1 ┄+▶│ {2}40 B: 1 whole frame/);
  });

  it('labels TLS records by type and size and notes once that the frames are encrypted', async () => {
    const lines = (await renderPlain(false, false, tlsSession())).split('\n');
    expect(lines.slice(3, 6)).toEqual([
      '  +0.021s               │◀─ TLS handsh… ──┤  TLS handshake 349 B 16 03 01 01 58 + 344 B: ClientHello',
      '  +0.021s               │                 ●  TLS: the frames inside are encrypted; the 10-step checklist cannot see them',
      '  +0.031s               ├─ TLS handsh… ──▶│  TLS handshake + change_cipher_spec + application data ×2 (691 B) 16 03 03 00 7A + 122 B: ServerHello | 14 03 03 00 01 +…',
    ]);
    expect(lines).toContain('  +0.051s               ├─ TLS applic… ──▶│  TLS application data ×2 (146 B) 17 03 03 00 44 + 68 B | 17 03 03 00 44 + 68 B');
    expect(lines.filter((line) => line.includes('TLS: the frames inside are encrypted'))).toHaveLength(1);
    expect(lines).toContain('10-step checklist: 4/10 seen');
  });

  it('never blocks on a slow output: it batches, then skips with a notice', async () => {
    const model = new SessionModel();
    let writes = 0;
    const written: string[] = [];
    let release: (() => void) | undefined;
    // A stream whose first write never completes until released: everything else must queue.
    const slow = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _encoding, callback) {
        writes++;
        written.push(chunk.toString());
        if (writes === 1) release = callback;
        else callback();
      },
    });
    const view = new PlainView(model, slow, { maxPendingLines: 10 });
    const events = tenStepSession().events;
    view.addRows(model.apply(events[0]!));
    view.addRows(model.apply(events[1]!));
    view.addRows(model.apply(events[2]!));
    await new Promise((resolve) => setImmediate(resolve));
    for (const event of events.slice(3)) view.addRows(model.apply(event));
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toBe(1);
    release?.();
    await view.flushed();
    expect(writes).toBe(2);
    expect(written[1]).toMatch(/^… \d+ lines skipped: the output fell behind \(the chat was not slowed\) …\n/);
    expect(written[1]!.trimEnd().split('\n')).toHaveLength(11);
  });
});
