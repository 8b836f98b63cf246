import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_FILE_CHUNK_BASE64, MAX_FILE_CHUNK_BYTES, MAX_SAFE_NAME_BYTES, base64DecodedLength, sanitizeFileName, uniqueDownloadPath } from './files.ts';

describe('sanitizeFileName', () => {
  const cases: [string, string][] = [
    ['cat.png', 'cat.png'],
    ['holiday photo (2).jpeg', 'holiday photo (2).jpeg'],
    ['résumé 👋.pdf', 'résumé 👋.pdf'],
    // traversal: only the base name is kept
    ['../../etc/passwd', 'passwd'],
    ['..\\..\\Windows\\system32\\drivers\\etc\\hosts', 'hosts'],
    ['/absolute/path/to/file.txt', 'file.txt'],
    ['C:\\Users\\alice\\Desktop\\cat.png', 'cat.png'],
    ['dir/', 'file'],
    ['..', 'file'],
    ['.', 'file'],
    ['../', 'file'],
    // leading dots and spaces (hidden files, traversal leftovers), trailing dots and spaces
    ['.bashrc', 'bashrc'],
    ['...hidden', 'hidden'],
    ['  .  spaced.txt', 'spaced.txt'],
    ['report.txt.', 'report.txt'],
    ['report.txt   ', 'report.txt'],
    // control characters, including newline, escape, DEL and C1
    ['evil\nname.txt', 'evilname.txt'],
    ['bell\u0007.txt', 'bell.txt'],
    ['\u001b[31mred\u001b[0m.txt', '[31mred[0m.txt'],
    ['del\u007f.txt', 'del.txt'],
    ['c1\u0085.txt', 'c1.txt'],
    ['nul\u0000byte.txt', 'nulbyte.txt'],
    // Windows reserved characters
    ['a<b>c:d"e|f?g*h.txt', 'abcdefgh.txt'],
    ['what?.txt', 'what.txt'],
    // bidi override tricks (txt.exe shown as exe.txt)
    ['invoice\u202etxt.exe', 'invoicetxt.exe'],
    ['zero\u200bwidth.txt', 'zerowidth.txt'],
    // Windows device names, with or without extension, any case
    ['CON', '_CON'],
    ['con.txt', '_con.txt'],
    ['nul', '_nul'],
    ['COM1.log', '_COM1.log'],
    ['lpt9', '_lpt9'],
    ['console.txt', 'console.txt'],
    ['prn2.txt', 'prn2.txt'],
    // empty results
    ['', 'file'],
    ['   ', 'file'],
    ['\u0001\u0002', 'file'],
    ['???', 'file'],
  ];
  it.each(cases)('%j → %j', (offered, safe) => expect(sanitizeFileName(offered)).toBe(safe));

  it('never returns a name with a separator, a control character or a leading dot', () => {
    const nasty = ['../..', '..\\..\\x', '\u0000', '.\u0001.', 'a/../b', '\\\\server\\share\\x', '....//....//x', 'x\r\n.txt'];
    for (const name of nasty) {
      const safe = sanitizeFileName(name);
      expect(safe).not.toMatch(/[/\\\u0000-\u001f]/);
      expect(safe.startsWith('.')).toBe(false);
      expect(safe.length).toBeGreaterThan(0);
    }
  });

  it('cuts long names to 255 UTF-8 bytes, keeping the extension and whole code points', () => {
    const long = sanitizeFileName(`${'é'.repeat(300)}.txt`);
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(MAX_SAFE_NAME_BYTES);
    expect(long.endsWith('.txt')).toBe(true);
    expect(long).not.toContain('\ufffd');
    const emoji = sanitizeFileName('👋'.repeat(100));
    expect(Buffer.byteLength(emoji)).toBeLessThanOrEqual(MAX_SAFE_NAME_BYTES);
    expect([...emoji].every((c) => c === '👋')).toBe(true);
  });
});

describe('uniqueDownloadPath', () => {
  const dir = join('downloads');
  const taken = (...names: string[]) => {
    const paths = new Set(names.map((name) => join(dir, name)));
    return (path: string) => paths.has(path);
  };

  it('keeps the name when it is free', () => {
    expect(uniqueDownloadPath(dir, 'cat.png', taken())).toBe(join(dir, 'cat.png'));
  });

  it('adds (1), (2), … before the extension when taken', () => {
    expect(uniqueDownloadPath(dir, 'cat.png', taken('cat.png'))).toBe(join(dir, 'cat (1).png'));
    expect(uniqueDownloadPath(dir, 'cat.png', taken('cat.png', 'cat (1).png', 'cat (2).png'))).toBe(join(dir, 'cat (3).png'));
    expect(uniqueDownloadPath(dir, 'archive.tar.gz', taken('archive.tar.gz'))).toBe(join(dir, 'archive.tar (1).gz'));
    expect(uniqueDownloadPath(dir, 'README', taken('README'))).toBe(join(dir, 'README (1)'));
  });

  it('sanitizes the name itself, so a traversal name stays inside the folder', () => {
    expect(uniqueDownloadPath(dir, '../../etc/passwd', taken())).toBe(join(dir, 'passwd'));
    expect(uniqueDownloadPath(dir, '..', taken('file'))).toBe(join(dir, 'file (1)'));
  });

  it('stays within 255 bytes with the suffix', () => {
    const name = `${'x'.repeat(251)}.txt`;
    const path = uniqueDownloadPath(dir, name, taken(name));
    const base = path.slice(dir.length + 1);
    expect(Buffer.byteLength(base)).toBeLessThanOrEqual(MAX_SAFE_NAME_BYTES);
    expect(base.endsWith(' (1).txt')).toBe(true);
  });

  it('gives up clearly when every name is taken', () => {
    expect(() => uniqueDownloadPath(dir, 'x', () => true, 5)).toThrow(/no free name/);
  });
});

describe('base64DecodedLength', () => {
  it('counts decoded bytes of canonical base64, and refuses anything else', () => {
    for (const size of [0, 1, 2, 3, 4, 5, 100, MAX_FILE_CHUNK_BYTES]) {
      expect(base64DecodedLength(Buffer.alloc(size, 7).toString('base64'))).toBe(size);
    }
    expect(Buffer.alloc(MAX_FILE_CHUNK_BYTES).toString('base64')).toHaveLength(MAX_FILE_CHUNK_BASE64);
    for (const bad of ['abc', 'a===', 'ab=c', 'aGVsbG8', 'hé==', 'aGk=\n', '-_8=']) expect(base64DecodedLength(bad), bad).toBeNull();
  });
});
