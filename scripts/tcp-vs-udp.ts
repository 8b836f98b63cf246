/**
 * The recordings and the figures of docs/tcp-vs-udp.md, from real runs on this machine:
 *
 *   npm run docs:tcp-vs-udp              record the TCP run and measure (about 20 s)
 *   npm run docs:tcp-vs-udp -- --no-run  only measure
 *
 * 1. The same chat as lesson 15's scenario (three users, a hello, bob killed, alice quits, carol
 *    ends her input), played with lesson 10's TCP server and client through the TCP inspector:
 *    lessons/15-udp/tcp-trace.jsonl, the left-hand diagram of the page (the right-hand one is
 *    lesson 15's own trace).
 * 2. Latency: the time from alice's say to bob's message, over TCP (lesson 10's server) and over
 *    UDP (lesson 15's server), on 127.0.0.1, no inspector: median and 99th percentile.
 * 3. Loss: says sent through the UDP tap with --loss 0.1 and 0.3 (seeded), and how many reached
 *    bob. (What TCP does under the same loss is explained on the page, not simulated.)
 * It prints the table for the page; nothing here runs in the test suite.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startInspector } from '../src/inspector/index.ts';
import { withNominalPorts } from '../src/lessons/readme/index.ts';
import { findLesson, type Lesson, loadScenario, runScenario, startLessonServer } from '../src/lessons/runtime/index.ts';
import { FrameSocket } from '../test-support/frame-socket.ts';
import { Transcript } from '../src/verify/transcript.ts';
import { UdpProbe } from '../src/verify/udp/udp-probe.ts';

const SAMPLES = 300;
const tcpLesson = findLesson(10) as Lesson;
const udpLesson = findLesson(15) as Lesson;
const ACCOUNTS = { alice: 'wonderland', bob: 'builder' };

/** Lesson 15's scenario, played by lesson 10's TCP programs: the users' lines are the same; the servers print differently. */
async function recordTcpRun(): Promise<void> {
  const scenario = loadScenario(udpLesson);
  scenario.steps = scenario.steps.filter((step) => !('expect' in step && step.expect === 'server'));
  const server = await startLessonServer(tcpLesson);
  const trace = join(udpLesson.dir, 'tcp-trace.jsonl');
  const inspector = await startInspector({ target: { host: server.host, port: server.port }, record: trace, view: 'none' });
  try {
    const run = await runScenario({ lesson: tcpLesson, scenario, port: inspector.address.port, server: server.terminal, serverPort: server.port, timeoutMs: 10_000 });
    await run.stop();
  } finally {
    await inspector.stop();
    await server.stop();
  }
  writeFileSync(trace, withNominalPorts(readFileSync(trace, 'utf8')));
  console.log(`recorded ${trace}`);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function summary(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  return `median ${percentile(sorted, 50).toFixed(3)} ms, p99 ${percentile(sorted, 99).toFixed(3)} ms`;
}

/** A raw frame connection to a lesson server, logged in as `user`. */
async function loginOver(port: number, user: keyof typeof ACCOUNTS): Promise<FrameSocket> {
  const socket = await FrameSocket.connect(port, { label: user });
  await socket.next('hello');
  socket.send({ type: 'login', user, password: ACCOUNTS[user] });
  await socket.next('welcome');
  return socket;
}

async function tcpLatency(): Promise<number[]> {
  const server = await startLessonServer(tcpLesson);
  try {
    const alice = await loginOver(server.port, 'alice');
    const bob = await loginOver(server.port, 'bob');
    const samples: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const started = performance.now();
      alice.send({ type: 'say', text: `tcp ${i}` });
      await bob.next((f) => f.type === 'message' && f.text === `tcp ${i}`);
      samples.push(performance.now() - started);
    }
    alice.destroy();
    bob.destroy();
    return samples;
  } finally {
    await server.stop();
  }
}

async function udpPair(port: number): Promise<{ alice: UdpProbe; bob: UdpProbe }> {
  const transcript = new Transcript();
  const alice = await UdpProbe.open('alice', '127.0.0.1', port, transcript);
  const bob = await UdpProbe.open('bob', '127.0.0.1', port, transcript);
  for (const [probe, user] of [
    [alice, 'alice'],
    [bob, 'bob'],
  ] as const) {
    probe.send({ type: 'login', user, password: ACCOUNTS[user] });
    if (!(await probe.waitFor((f) => f.type === 'welcome', 2_000))) throw new Error(`${user} got no welcome`);
  }
  return { alice, bob };
}

async function udpLatency(): Promise<number[]> {
  const server = await startLessonServer(udpLesson);
  try {
    const { alice, bob } = await udpPair(server.port);
    const samples: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const started = performance.now();
      alice.send({ type: 'say', text: `udp ${i}` });
      if (!(await bob.waitFor((f) => f.type === 'message' && f.text === `udp ${i}`, 2_000))) throw new Error(`message ${i} lost without injected loss`);
      samples.push(performance.now() - started);
    }
    alice.close();
    bob.close();
    return samples;
  } finally {
    await server.stop();
  }
}

/** Says sent through the UDP tap with `loss`: how many reached bob (the tap drops both ways, so a say and its relay each risk it). */
async function udpDelivery(loss: number): Promise<{ sent: number; arrived: number }> {
  const server = await startLessonServer(udpLesson);
  // Logins go straight to the server: only the chat itself crosses the lossy tap.
  const inspector = await startInspector({ transport: 'udp', target: { host: server.host, port: server.port }, faults: { loss, seed: 2026 }, view: 'none' });
  try {
    const transcript = new Transcript();
    const alice = await UdpProbe.open('alice', '127.0.0.1', inspector.address.port, transcript);
    const bob = await UdpProbe.open('bob', '127.0.0.1', inspector.address.port, transcript);
    let arrived = 0;
    for (const [probe, user] of [
      [alice, 'alice'],
      [bob, 'bob'],
    ] as const) {
      // A lost login or welcome: try again, as a patient user would.
      for (let attempt = 0; attempt < 20; attempt++) {
        probe.send({ type: 'login', user, password: ACCOUNTS[user] });
        const answer = await probe.waitFor((f) => f.type === 'welcome' || f.type === 'error', 300);
        if (answer) break;
      }
    }
    for (let i = 0; i < SAMPLES; i++) {
      alice.send({ type: 'say', text: `lossy ${i}` });
      if (i % 10 === 9) bob.send({ type: 'ping' });
      if (await bob.waitFor((f) => f.type === 'message' && f.text === `lossy ${i}`, 50)) arrived++;
    }
    alice.close();
    bob.close();
    return { sent: SAMPLES, arrived };
  } finally {
    await inspector.stop();
    await server.stop();
  }
}

if (!process.argv.includes('--no-run')) await recordTcpRun();
const tcp = await tcpLatency();
const udp = await udpLatency();
console.log(`latency say → message, ${SAMPLES} samples, 127.0.0.1:`);
console.log(`  TCP (lesson 10): ${summary(tcp)}`);
console.log(`  UDP (lesson 15): ${summary(udp)}`);
for (const loss of [0.1, 0.3]) {
  const { sent, arrived } = await udpDelivery(loss);
  const expected = ((1 - loss) ** 2 * 100).toFixed(0);
  console.log(`  UDP through --loss ${loss}: ${arrived}/${sent} messages arrived (${((arrived / sent) * 100).toFixed(1)} %; (1−p)² = ${expected} %)`);
}
