import { describe, expect, test } from 'vitest';
import { printedListenPort } from './supervisor.ts';

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
