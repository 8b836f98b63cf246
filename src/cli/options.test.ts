import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { CliError } from './errors.ts';
import { millisecondsUpTo, parseHostPort, parseListen, parsePort, parsePositiveInt, portFromEnv, readFlagFile, secondsUpTo } from './options.ts';

describe('CLI option values', () => {
  it('takes a TCP port from 0 (any free one) to 65535, and nothing else', () => {
    expect([parsePort('0'), parsePort('7070'), parsePort('65535')]).toEqual([0, 7070, 65_535]);
    for (const bad of ['65536', '-1', '70x', '', ' 7070', '1e3']) {
      expect(() => parsePort(bad), bad).toThrow(new InvalidArgumentError(`"${bad}" is not a TCP port (a whole number from 0 to 65535).`));
    }
  });

  it('reads PORT from the environment, falling back when it is unset or empty', () => {
    expect([portFromEnv(undefined, 7070), portFromEnv('', 7070), portFromEnv('9000', 7070)]).toEqual([7070, 7070, 9000]);
    expect(() => portFromEnv('seventy', 7070)).toThrow(new CliError('PORT=seventy is not a TCP port (a whole number from 0 to 65535); pass --port'));
  });

  it('takes host:port, IPv6 in brackets, and a bare port or host:port where one listens', () => {
    expect(parseHostPort('127.0.0.1:7070')).toEqual({ host: '127.0.0.1', port: 7070 });
    expect(parseHostPort('[::1]:7071')).toEqual({ host: '::1', port: 7071 });
    for (const bad of ['nowhere', 'host:0', 'host:65536', ':7070', '::1:7070']) {
      expect(() => parseHostPort(bad), bad).toThrow(`"${bad}" is not host:port (for example 127.0.0.1:7070).`);
    }
    expect([parseListen('0'), parseListen('0.0.0.0:7071')]).toEqual([{ port: 0 }, { host: '0.0.0.0', port: 7071 }]);
    expect(() => parseListen('seven')).toThrow('"seven" is not a TCP port');
  });

  it('takes a positive whole number within the safe integers', () => {
    expect([parsePositiveInt('1'), parsePositiveInt('65536')]).toEqual([1, 65_536]);
    for (const bad of ['0', '-3', '1.5', 'ten', '9007199254740993']) {
      expect(() => parsePositiveInt(bad), bad).toThrow(`"${bad}" is not a positive whole number.`);
    }
  });

  it('takes a delay in whole milliseconds from 0 to its bound', () => {
    const pace = millisecondsUpTo(60_000);
    expect([pace('0'), pace('700'), pace('60000')]).toEqual([0, 700, 60_000]);
    for (const bad of ['60001', '1.5', '-1', 'soon']) expect(() => pace(bad), bad).toThrow(`"${bad}" is not a whole number of milliseconds (0 to 60000).`);
    const delay = millisecondsUpTo();
    expect(delay('123456')).toBe(123_456);
    expect(() => delay('9007199254740993')).toThrow('"9007199254740993" is not a whole number of milliseconds.');
  });

  it('takes a timeout in seconds, decimals allowed, more than 0 and at most its bound', () => {
    const timeout = secondsUpTo(600);
    expect([timeout('0.5'), timeout('5'), timeout('600')]).toEqual([0.5, 5, 600]);
    for (const bad of ['0', '0.0', '600.5', '-1', '.5', 'forever']) {
      expect(() => timeout(bad), bad).toThrow(`"${bad}" is not a number of seconds (more than 0, at most 600).`);
    }
  });

  describe('a file an option names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chatlab-options-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('is read whole, or refused with one line naming the option, the file and why', () => {
      expect(readFlagFile('--ca', fileURLToPath(import.meta.url)).toString('utf8')).toContain("describe('CLI option values'");
      expect(() => readFlagFile('--tls-cert', join(dir, 'missing.pem'))).toThrow(new CliError(`--tls-cert ${join(dir, 'missing.pem')}: cannot read it (no such file)`));
      expect(() => readFlagFile('--tls-key', dir)).toThrow(new CliError(`--tls-key ${dir}: cannot read it (it is a directory)`));
    });
  });
});
