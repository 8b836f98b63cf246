import { describe, expect, it } from 'vitest';
import { withNominalPorts } from './trace-recording.ts';

const recorded = [
  '{"kind":"trace","version":1,"tool":"chatlab inspect","created":"2026-11-26T22:28:28.206Z"}',
  '{"kind":"listening","t":1,"listen":{"host":"127.0.0.1","port":42223},"target":{"host":"127.0.0.1","port":40681},"framing":"auto"}',
  '{"kind":"open","t":2,"conn":1,"peer":"127.0.0.1:39406"}',
  '{"kind":"upstream","t":3,"conn":1,"local":"127.0.0.1:50460","decoded":[{"kind":"listen","label":"listening","summary":"server is listening on 127.0.0.1:40681 (it accepted a connection)","step":1}]}',
  '{"kind":"data","t":4,"conn":1,"dir":"c2s","read":1,"bytes":"MTI3LjAuMC4xOjQwNjgxCg==","text":"127.0.0.1:40681\\n","decoded":[{"kind":"bad","label":"bad_frame","summary":"not JSON: 127.0.0.1:40681","step":null}]}',
  '',
].join('\n');

describe('withNominalPorts', () => {
  it("puts a recorded trace on the README's ports, leaving the wire bytes and the clients' ports alone", () => {
    const nominal = withNominalPorts(recorded);
    const events = nominal
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events[1]).toMatchObject({ listen: { port: 7071 }, target: { port: 7070 } });
    expect(events[2]).toMatchObject({ peer: '127.0.0.1:39406' });
    expect(events[3]).toMatchObject({ local: '127.0.0.1:50460', decoded: [{ summary: 'server is listening on 127.0.0.1:7070 (it accepted a connection)' }] });
    expect(events[4]).toMatchObject({ bytes: 'MTI3LjAuMC4xOjQwNjgxCg==', text: '127.0.0.1:40681\n', decoded: [{ summary: 'not JSON: 127.0.0.1:7070' }] });
    expect(nominal.endsWith('\n')).toBe(true);
    expect(withNominalPorts(nominal)).toBe(nominal);
  });
});
