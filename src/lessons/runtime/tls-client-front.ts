/**
 * Runs a TLS lesson's client behind a TLS front, for the verifier's client checks (the verifier
 * plays the server in plain TCP). check.ts starts it as the command to verify:
 *
 *   node --import tsx src/lessons/tls-client-front.ts <key.pem> <cert.pem> <client.mjs|client.py>
 *
 * It reads HOST and PORT (the verifier's listener), opens a TLS front with the lesson's key and
 * certificate that forwards to it, then runs the client (`node client.mjs`, `python3 client.py`:
 * see programCommand) with PORT set to the front and
 * everything else unchanged: the client's stdin, stdout, stderr and exit code are the verifier's
 * to see, exactly as if it ran alone.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startTlsFront } from './tls-bridge.ts';
import { programCommand } from './tracks.ts';

const [keyFile, certFile, client] = process.argv.slice(2);
if (!keyFile || !certFile || !client) {
  process.stderr.write('usage: tls-client-front <key.pem> <cert.pem> <client.mjs|client.py>\n');
  process.exit(2);
}
const target = { host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 7070) };
const front = await startTlsFront({ target, key: readFileSync(keyFile), cert: readFileSync(certFile) });
const [interpreter = process.execPath, ...args] = programCommand(client);
const child = spawn(interpreter, args, { stdio: 'inherit', env: { ...process.env, PORT: String(front.port) } });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  void front.stop().then(() => process.exit(code ?? (signal ? 1 : 0)));
});
