import { createServer, connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { rawDialect } from './dialects.ts';
import { runOpenLoop } from './open-loop.ts';
import { nextPayload, type PayloadFields } from './payload.ts';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

describe('runOpenLoop', () => {
  it('sends rate × duration messages in order, spread over the duration', async () => {
    const received: Buffer[] = [];
    const server = createServer((s) => s.on('data', (c: Buffer) => received.push(c)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const senders: Socket[] = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<Socket>((r) => {
            const s = connect(port, '127.0.0.1', () => r(s));
          }),
      ),
    );
    cleanup.push(() => {
      for (const s of senders) s.destroy();
      server.close();
    });

    const report = await runOpenLoop({ senders, dialect: rawDialect, totalRate: 400, durationMs: 500, step: 3, epochMs: performance.now() });
    expect(report.sent).toEqual([100, 100]);
    const elapsed = report.finishedAt - report.startedAt;
    expect(elapsed).toBeGreaterThan(450);
    expect(elapsed).toBeLessThan(1000);

    const deadline = Date.now() + 5000;
    const lines = (): number => Buffer.concat(received).toString().split('\n').length - 1;
    while (lines() < 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const all = Buffer.concat(received);
    const out: PayloadFields = { step: 0, sender: 0, seq: 0, sentUs: 0 };
    const next = [0, 0];
    for (let at = nextPayload(all, 0, all.length, out); at !== -1; at = nextPayload(all, at, all.length, out)) {
      expect(out.step).toBe(3);
      expect(out.seq).toBe(next[out.sender]);
      next[out.sender]!++;
    }
    expect(next).toEqual([100, 100]);
  });
});
