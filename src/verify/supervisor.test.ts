import { describe, expect, test } from 'vitest';
import { OUTPUT_LIMITS, Supervisor, printedListenPort } from './supervisor.ts';

describe('printedListenPort', () => {
  test('finds the port of the usual "listening on" lines', () => {
    expect(printedListenPort('listening on 127.0.0.1:7070')).toBe(7070);
    expect(printedListenPort('chatlab server listening on 127.0.0.1:41235 (Ctrl-C to stop) at 12:30')).toBe(41235);
    expect(printedListenPort('Listening on [::1]:8080')).toBe(8080);
    expect(printedListenPort('Server listening at http://localhost:3000/')).toBe(3000);
    expect(printedListenPort('listening on port 5000')).toBe(5000);
  });

  test('ignores lines that are not about listening, or name no port', () => {
    expect(printedListenPort('connected to 127.0.0.1:7070')).toBeNull();
    expect(printedListenPort('listening (pid 12345)')).toBeNull();
  });
});

describe('Supervisor output capture', () => {
  test('keeps the last lines of a command that prints without end, clips long lines, and says how much was cut', async () => {
    const script = ["process.stdout.write('listening on 127.0.0.1:1\\n' + 'x'.repeat(20000) + '\\n');", 'for (let i = 1; i <= 5000; i++) process.stdout.write(`line ${i}\\n`);'].join('');
    const command = new Supervisor([process.execPath, '-e', script], {});
    await command.exited;
    await command.stop();
    const { output, outputCut } = command;
    expect(output.length).toBe(OUTPUT_LIMITS.items);
    expect(output.at(-1)?.text).toBe('line 5000');
    expect(output[0]?.text).toBe(`line ${5002 - OUTPUT_LIMITS.items - 1}`);
    expect(command.lineCount).toBe(5002);
    expect(outputCut.lines).toBe(5002 - OUTPUT_LIMITS.items);
    // The 20,000-character line lost its end when printed, then the rest of it dropped out with the earliest lines.
    expect(outputCut.chars).toBeGreaterThan(20_000);
    expect(command.linesSince(5000).map((l) => l.text)).toEqual(['line 4999', 'line 5000']);
  });

  test('clips an over-long line to its start and says how much', async () => {
    const command = new Supervisor([process.execPath, '-e', "process.stdout.write('listening ' + 'y'.repeat(100000) + '\\n')"], {});
    await command.exited;
    await command.stop();
    const [line] = command.output;
    expect(line?.text.startsWith('listening yyy')).toBe(true);
    expect(line?.text).toMatch(/… \(91,818 more characters not kept\)$/);
    expect(command.outputCut).toEqual({ lines: 0, chars: 91_818 });
  });
});
