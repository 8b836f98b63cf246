import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EXTENSION_STEPS, verifyClient, verifyServer, verifyUdpServer, type CheckResult, type VerifyReport } from '../../verify/index.ts';
import { accountsFile, lessonFiles, loadAccounts, type Lesson } from './catalogue.ts';
import { startLessonCluster, startRoundRobin } from './cluster.ts';
import { LESSON_HOST, startLessonServer } from './processes.ts';
import { startTlsTerminator } from './tls-bridge.ts';
import { checkCacheKey, programCommand, trackOf, type Track } from './tracks.ts';

/** The program that runs a TLS lesson's client behind a TLS front (see tls-client-front.ts). */
const TLS_CLIENT_FRONT = fileURLToPath(new URL('tls-client-front.ts', import.meta.url));
/**
 * tsx's loader, by its full address: a bare `--import tsx` is looked up from the working folder,
 * and a learner's folder (`chatlab lesson check --dir`) has no node_modules.
 */
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** What `chatlab lesson check N` found. */
export interface LessonCheckResult {
  lesson: number;
  slug: string;
  /** The lesson's folder (absolute): the cache behind `lesson list` keeps results per folder. */
  dir: string;
  /** The track checked (`node`, `python`): the cache keeps each track's results apart. */
  track: Track;
  /** The server passes steps 1..step, the client (if any) its checks, and the broken copy fails. */
  passed: boolean;
  /** The server through the lesson's step. */
  server: VerifyReport;
  /** The client through the lesson's step (lessons with a client). */
  client?: VerifyReport;
  /** The deliberately broken server: it must fail, at its step. */
  broken?: { file: string; report: VerifyReport; failsAsExpected: boolean };
  /** Hash of the lesson's files, so a cached result is only trusted for the same code. */
  hash: string;
}

/** Options of {@link checkLesson}. */
export interface CheckLessonOptions {
  /** Also verify that the broken copy fails (default true). */
  includeBroken?: boolean;
  /** Called as each verifier check finishes. */
  onCheck?: (part: 'server' | 'client' | 'broken', result: CheckResult) => void;
  /** Verifier timeouts (tests use shorter ones). */
  timeouts?: { answerMs?: number; quietMs?: number; startMs?: number };
}

/** A hash of everything a lesson's check depends on: its code files and the demo accounts. */
export function lessonHash(lesson: Lesson): string {
  const hash = createHash('sha256');
  for (const file of lessonFiles(lesson))
    hash
      .update(file)
      .update('\0')
      .update(readFileSync(join(lesson.dir, file)))
      .update('\0');
  hash.update(readFileSync(accountsFile()));
  return hash.digest('hex').slice(0, 16);
}

/** The demo accounts as the verifier wants them. */
export function lessonUsers(): { user: string; password: string }[] {
  return Object.entries(loadAccounts()).map(([user, password]) => ({ user, password }));
}

/**
 * How far the verifier checks a lesson's server: steps 1..step, and for a bonus lesson also the
 * extension groups it implements (up to the last of them, `only` those).
 */
export function lessonServerScope(lesson: Lesson): { through: number; only?: string[] } {
  if (lesson.transport === 'udp') return { through: lesson.step };
  const groups = lesson.extensions ?? [];
  const steps = EXTENSION_STEPS.filter((s) => groups.includes(s.feature)).map((s) => s.step);
  return steps.length ? { through: Math.max(...steps), only: groups } : { through: lesson.step };
}

/** The `chatlab verify` flags that check a lesson's server: `--through 15 --only private,rooms`. */
export function lessonVerifyFlags(lesson: Lesson): string {
  if (lesson.transport === 'udp') return '--udp';
  const { through, only } = lessonServerScope(lesson);
  return `--through ${through}${only ? ` --only ${only.join(',')}` : ''}`;
}

/** What every verifier run of a check shares: the lesson's scope, and the caller's timeouts and progress callback. */
function verifierOptions(lesson: Lesson, options: CheckLessonOptions, part: 'server' | 'client' | 'broken') {
  // The client checks end at step 10; the server's scope includes the lesson's extension groups.
  const scope = part === 'client' ? { through: lesson.step } : lessonServerScope(lesson);
  return {
    ...scope,
    ...(options.timeouts ? { timeouts: options.timeouts } : {}),
    ...(options.onCheck ? { onCheck: (result: CheckResult) => options.onCheck?.(part, result) } : {}),
  };
}

/** Verifies a lesson's server (or its broken copy) through the lesson's step. */
export function verifyLessonServer(lesson: Lesson, file: string, options: CheckLessonOptions = {}, part: 'server' | 'broken' = 'server'): Promise<VerifyReport> {
  if (lesson.tls) return verifyTlsLessonServer(lesson, lesson.tls.cert, file, options, part);
  if (lesson.cluster) return verifyClusterLessonServer(lesson, file, options, part);
  if (lesson.transport === 'udp') return verifyUdpServer({ command: programCommand(file), cwd: lesson.dir, users: lessonUsers(), ...verifierOptions(lesson, options, part) });
  return verifyServer({
    command: programCommand(file),
    cwd: lesson.dir,
    users: lessonUsers(),
    ...verifierOptions(lesson, options, part),
  });
}

/**
 * The verifier speaks plain TCP, so a TLS lesson's server is checked through a TLS terminator:
 * the lesson server runs as it does for a learner (TLS on its port), the verifier talks to the
 * terminator, which talks TLS to the server, trusting only the lesson's certificate. Every core
 * check then runs over a real TLS connection.
 */
async function verifyTlsLessonServer(lesson: Lesson, cert: string, file: string, options: CheckLessonOptions, part: 'server' | 'broken'): Promise<VerifyReport> {
  const server = await startLessonServer(lesson, { file });
  try {
    const bridge = await startTlsTerminator({ target: { host: server.host, port: server.port }, ca: readFileSync(join(lesson.dir, cert)) });
    try {
      const report = await verifyServer({
        target: { host: LESSON_HOST, port: bridge.port },
        users: lessonUsers(),
        ...verifierOptions(lesson, options, part),
      });
      return withHandshakeErrors(report, bridge.handshakeErrors);
    } finally {
      await bridge.stop();
    }
  } finally {
    await server.stop();
  }
}

/**
 * A failed check of a TLS lesson's server says so when the TLS handshakes with it failed: a
 * server that still speaks plain text sees the handshake as a bad frame and hangs up, which
 * alone reads as "closed the connection right after accepting it".
 */
function withHandshakeErrors(report: VerifyReport, errors: readonly string[]): VerifyReport {
  const failed = report.checks.find((check) => check.status === 'failed');
  if (!failed?.failure || errors.length === 0) return report;
  const why = `the TLS handshake with your server failed (${[...new Set(errors)].join(', ')})`;
  failed.failure.summary = `${failed.failure.summary}; ${why}`;
  failed.failure.hint = `${why}: does it speak TLS on its port, with the lesson's key and certificate (tls.createServer in Node, ssl.SSLContext.wrap_socket in Python)? ${failed.failure.hint}`;
  return report;
}

/** Whether a lesson's client is checked: the client checks speak TCP, so a UDP lesson's client is not. */
export function hasCheckedClient(lesson: Lesson): boolean {
  return lesson.client !== undefined && lesson.transport !== 'udp';
}

/**
 * A cluster lesson is checked as it is deployed: its own redis-server, the server started once
 * per node, and a round-robin balancer in front, so consecutive connections of the verifier land
 * on different nodes (as the verifier opens them: alice and bob on one node, carol on the other).
 * Every check of steps 1 to 10 (a welcome listing everyone, presence, relay, already_online,
 * offline on quit and on a drop) then holds only if the nodes really share the chat; a pass with
 * a node where nobody logged in would prove nothing, and is refused.
 */
async function verifyClusterLessonServer(lesson: Lesson, file: string, options: CheckLessonOptions, part: 'server' | 'broken'): Promise<VerifyReport> {
  const cluster = await startLessonCluster(lesson, { file });
  try {
    const balancer = await startRoundRobin(cluster.nodes.map((node) => ({ host: node.host, port: node.port })));
    try {
      const report = await verifyServer({
        target: { host: LESSON_HOST, port: balancer.port },
        users: lessonUsers(),
        ...verifierOptions(lesson, options, part),
      });
      // A pass proves the cluster only if users really logged in on every node (the verifier's
      // alice and bob land on one node, carol on the other, so relay and presence cross them).
      const idle = cluster.nodes.filter((node) => !node.terminal.printed.some((line) => /^#\d+ is \S+$/.test(line)));
      if (report.passed && idle.length > 0) {
        throw new Error(`lesson ${lesson.slug}: the check logged nobody in on ${idle.map((node) => node.terminal.name).join(', ')}, so it proved nothing across nodes`);
      }
      return report;
    } finally {
      await balancer.stop();
    }
  } finally {
    await cluster.stop();
  }
}

/**
 * Verifies a lesson's client through the lesson's step (the verifier plays the server). A TLS
 * lesson's client runs behind a TLS front (tls-client-front.ts) that decrypts for the verifier.
 */
export function verifyLessonClient(lesson: Lesson, options: CheckLessonOptions = {}): Promise<VerifyReport> {
  if (!lesson.client) throw new Error(`lesson ${lesson.slug} has no client`);
  const [user, password] = Object.entries(loadAccounts())[0] ?? ['alice', 'wonderland'];
  const command = lesson.tls
    ? [process.execPath, '--import', TSX_LOADER, TLS_CLIENT_FRONT, join(lesson.dir, lesson.tls.key), join(lesson.dir, lesson.tls.cert), lesson.client]
    : programCommand(lesson.client);
  return verifyClient({
    command,
    cwd: lesson.dir,
    user: { user, password },
    ...verifierOptions(lesson, options, 'client'),
  });
}

/**
 * Runs the verifier on a lesson, its parts side by side: the server through the lesson's step,
 * the client's checks for that step, and (when the lesson keeps one) the broken server, which
 * must fail exactly at its step: that proves the check can tell broken code from working code.
 */
export async function checkLesson(lesson: Lesson, options: CheckLessonOptions = {}): Promise<LessonCheckResult> {
  const hash = lessonHash(lesson);
  const broken = options.includeBroken !== false ? lesson.broken : undefined;
  const [server, client, brokenReport] = await Promise.all([
    verifyLessonServer(lesson, lesson.server, options),
    hasCheckedClient(lesson) ? verifyLessonClient(lesson, options) : Promise.resolve(undefined),
    broken ? verifyLessonServer(lesson, broken.file, options, 'broken') : Promise.resolve(undefined),
  ]);
  const brokenResult = broken && brokenReport ? { file: broken.file, report: brokenReport, failsAsExpected: !brokenReport.passed && brokenReport.failedStep === broken.failsAt } : undefined;
  const passed = server.passed && (client?.passed ?? true) && (brokenResult?.failsAsExpected ?? true);
  const result: LessonCheckResult = { lesson: lesson.number, slug: lesson.slug, dir: lesson.dir, track: trackOf(lesson), passed, server, hash };
  if (client) result.client = client;
  if (brokenResult) result.broken = brokenResult;
  return result;
}

// ---------------------------------------------------------------- the cache behind `lesson list`

/** One cached outcome: whether the lesson passed, for which version of its files, and when. */
export interface CachedCheck {
  passed: boolean;
  hash: string;
  at: string;
}

/**
 * Where `chatlab lesson check` remembers its results: $CHATLAB_CACHE_DIR, else
 * $XDG_CACHE_HOME/chatlab, else ~/.cache/chatlab.
 */
export function checkCacheFile(): string {
  const dir = process.env.CHATLAB_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'chatlab');
  return join(dir, 'lesson-checks.json');
}

/**
 * Every cached result, by the lesson's absolute folder (an unreadable cache counts as empty).
 * The cache is shared by every checkout under the account: keyed by folder, another clone's
 * results are never shown as this one's. Entries of the older by-slug format are dropped.
 */
export function readCheckCache(): Record<string, CachedCheck> {
  const file = checkCacheFile();
  if (!existsSync(file)) return {};
  try {
    const entries = Object.entries(JSON.parse(readFileSync(file, 'utf8')) as Record<string, CachedCheck>);
    return Object.fromEntries(entries.filter(([dir]) => isAbsolute(dir)));
  } catch {
    return {};
  }
}

/** Remembers a check's outcome (written to a temporary file first, so a crash never leaves half a cache). */
export function saveCheckResult(result: LessonCheckResult): void {
  const file = checkCacheFile();
  const cache = readCheckCache();
  cache[checkCacheKey(result.dir, result.track ?? 'node')] = { passed: result.passed, hash: result.hash, at: new Date().toISOString() };
  mkdirSync(join(file, '..'), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(cache, null, 2) + '\n');
  renameSync(temporary, file);
}

/**
 * The cached status of a lesson: `passed`/`failed` when the last check ran on exactly these
 * files, `stale` when the files changed since, `unchecked` when never checked.
 */
export function cachedStatus(lesson: Lesson, cache: Record<string, CachedCheck> = readCheckCache()): { status: 'passed' | 'failed' | 'stale' | 'unchecked'; at?: string } {
  const entry = cache[checkCacheKey(lesson.dir, trackOf(lesson))];
  if (!entry) return { status: 'unchecked' };
  if (entry.hash !== lessonHash(lesson)) return { status: 'stale', at: entry.at };
  return { status: entry.passed ? 'passed' : 'failed', at: entry.at };
}
