import { type Lesson, runScenario, startLessonServer, type Terminal } from '../runtime/index.ts';
import { renderTranscripts, type RunPorts } from './transcript.ts';

/** Something that sits between the users and the server (the inspector), for one run. */
export interface Middlebox {
  /** Where the users connect. */
  port: number;
  /** Stops it once the run is over (the inspector writes its trace then). */
  stop(): Promise<void>;
}

/** A finished scripted run of a lesson. */
export interface RecordedRun {
  terminals: Terminal[];
  ports: RunPorts;
  /** The README's "what you should see" section for this run. */
  transcripts: string;
}

/**
 * Plays a lesson's scenario from start to end: starts its server on a free port, optionally puts
 * a middlebox (the inspector) in front of it, runs the scripted users, then stops everything.
 * The scenarios end with every user gone, so the run (and its trace) is complete.
 */
export async function recordRun(
  lesson: Lesson,
  options: { middlebox?: (target: { host: string; port: number }) => Promise<Middlebox>; timeoutMs?: number } = {},
): Promise<RecordedRun> {
  const server = await startLessonServer(lesson);
  let middlebox: Middlebox | undefined;
  try {
    middlebox = options.middlebox ? await options.middlebox({ host: server.host, port: server.port }) : undefined;
    const port = middlebox?.port ?? server.port;
    const run = await runScenario({
      lesson,
      port,
      server: server.terminal,
      serverPort: server.port,
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    });
    const ports = { server: server.port, users: port };
    // Freeze the transcripts before stopping anything: what is printed then is not part of the run.
    const transcripts = renderTranscripts(run.terminals, ports);
    await run.stop();
    return { terminals: run.terminals, ports, transcripts };
  } finally {
    await middlebox?.stop();
    await server.stop();
  }
}
