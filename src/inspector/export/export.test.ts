import { describe, expect, it } from 'vitest';
import { SessionModel } from '../session-model.ts';
import { EventScript, tenStepSession, tlsRecord, tlsSession } from '../../../test-support/event-script.ts';
import { escapeMermaid, exportMermaid } from './mermaid.ts';
import { escapeXml, exportSvg } from './svg.ts';
import { exportText } from './text.ts';

function model(script = tenStepSession()): SessionModel {
  const m = new SessionModel();
  m.applyAll(script.events);
  return m;
}

/** Checks that every tag is closed in order (our SVG has no comments, CDATA or processing instructions). */
function assertBalancedXml(xml: string): void {
  const stack: string[] = [];
  for (const match of xml.matchAll(/<(\/?)([a-zA-Z][\w:-]*)([^>]*?)(\/?)>/g)) {
    const [, closing, name, , selfClosing] = match;
    if (selfClosing) continue;
    if (closing) expect(stack.pop(), `closing </${name}>`).toBe(name);
    else stack.push(name as string);
  }
  expect(stack).toEqual([]);
  // Outside tags, only escaped text: no raw < or a bare & that is not an entity.
  const text = xml.replace(/<[^>]*>/g, '');
  expect(text).not.toMatch(/&(?![a-z]+;|#\d+;)/);
}

describe('Mermaid export', () => {
  it('declares one participant per lifeline under its final name and one message per row', () => {
    const text = exportMermaid(model());
    const lines = text.trimEnd().split('\n');
    expect(lines.slice(0, 7)).toEqual([
      'sequenceDiagram',
      '    participant S as server<br/>127.0.0.1:7070',
      '    participant C1 as alice<br/>127.0.0.1:50001',
      '    participant C2 as bob<br/>127.0.0.1:50002',
      '    Note over S: [1] server is listening on 127.0.0.1:7070 (it accepted a connection)',
      '    C1-->>S: [2] connect · TCP connection from 127.0.0.1:50001 accepted',
      '    S->>C1: [3] hello · chatlab/1',
    ]);
    expect(lines).toContain('    C1->>S: [6] say · #quot;hello 👋#quot; [id 1]');
    expect(lines).toContain('    C2-->>S: [10] FIN · client closed its side (FIN)');
    expect(lines[lines.length - 1]).toBe('    Note over S,C2: 10-step checklist: 10/10 seen (all green)');
  });

  it('escapes what Mermaid would read as syntax', () => {
    expect(escapeMermaid('a;b #c <d> "e"\nf 5%')).toBe('a#59;b #35;c #lt;d#gt; #quot;e#quot; f 5#37;');
    const s = new EventScript().listening().connect(1);
    s.s2c(1, { type: 'message', from: 'x', text: 'end; %%{init}%% <script>', ts: 1 });
    const text = exportMermaid(model(s));
    expect(text).toContain('    S->>C1: [7] message · x: #quot;end#59; #37;#37;{init}#37;#37; #lt;script#gt;#quot;\n');
  });

  it('keeps hex and TLS labels free of entity noise', () => {
    const lines = exportMermaid(model(tlsSession())).split('\n');
    expect(lines.slice(6, 9)).toEqual([
      '    C1->>S: TLS handshake 349 B · 16 03 01 01 58 + 344 B: ClientHello',
      '    Note over C1: TLS: the frames inside are encrypted#59; the 10-step checklist cannot see them',
      '    S->>C1: TLS handshake + change_cipher_spec + application data ×2 (691 B) · 16 03 03 00 7A + 122 B: ServerHello | 14 03 03 00 01 + 1 B | 17 03 03 00 17 + 2…',
    ]);
    // Raw binary that is not TLS is hex too, with nothing to escape.
    const s = new EventScript().listening(undefined, 'raw').connect(1);
    s.bytes(1, 's2c', Buffer.concat([Buffer.from([0x00, 0x3c, 0x3e, 0x3b, 0x23, 0x25, 0x22]), tlsRecord(0x17, 10)]));
    const raw = exportMermaid(model(s))
      .split('\n')
      .find((line) => line.startsWith('    S->>C1:'));
    expect(raw).toBe('    S->>C1: 22 B · 00 3C 3E 3B 23 25 22 17 03 03 00 0A A5 A5 A5 A5 A5 A5 A5 A5 A5 A5');
  });

  it('wraps in a fence for Markdown', () => {
    expect(exportMermaid(model(), { fenced: true })).toMatch(/^```mermaid\nsequenceDiagram\n[\s\S]*\n```\n$/);
  });
});

describe('SVG export', () => {
  it('is one self-contained, well-formed SVG with a row per diagram row', () => {
    const m = model();
    const svg = exportSvg(m);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    assertBalancedXml(svg);
    expect(svg).not.toMatch(/href=|<script|<image|@import|url\((?!#)/);
    expect(svg.match(/<g class="row"/g)).toHaveLength(m.rows.length);
    expect(svg.match(/<g class="step seen">/g)).toHaveLength(10);
    expect(svg).toContain('hello 👋');
    expect(svg).toContain('10-step checklist: 10/10 seen — all green');
  });

  it('repeats a label too long for its arrow before the summary', () => {
    const svg = exportSvg(model(tlsSession()));
    assertBalancedXml(svg);
    expect(svg).toMatch(/class="label t-c2s">TLS handshake \d*…<\/text>/);
    expect(svg).toContain('>TLS handshake 349 B 16 03 01 01 58 + 344 B: ClientHello</text>');
    expect(svg).toContain('>TLS: the frames inside are encrypted; the 10-step checklist cannot see them</text>');
    // Labels that fit are not repeated.
    expect(exportSvg(model())).toContain('>&quot;hello 👋&quot; [id 1]</text>');
  });

  it('escapes wire text', () => {
    expect(escapeXml('<a href="x">&\u0001')).toBe('&lt;a href=&quot;x&quot;&gt;&amp;\ufffd');
    const s = new EventScript().listening().connect(1);
    s.s2c(1, { type: 'message', from: 'x', text: '</svg><script>alert(1)</script> & \u0007', ts: 1 });
    const svg = exportSvg(model(s));
    assertBalancedXml(svg);
    expect(svg).not.toContain('<script>');
  });
});

describe('text export', () => {
  it('draws all rows under the final lifeline names, then the checklist', () => {
    const m = model();
    const text = exportText(m);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^chatlab session 127\.0\.0\.1:7071 → 127\.0\.0\.1:7070, 2 connection\(s\), started 2025-/);
    expect(lines[2]).toMatch(/^ {5}time step +server +alice +bob$/);
    expect(lines.filter((l) => /^\s+\+\d+\.\d{3}s/.test(l))).toHaveLength(m.rows.length);
    expect(text).toContain('10-step checklist: 10/10 seen — all green');
  });
});
