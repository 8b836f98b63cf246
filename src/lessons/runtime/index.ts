/**
 * The lessons at run time: what `chatlab lesson list|show|run|check|diff` needs — the catalogue
 * (lessons/lessons.json), the checks with the verifier and their cache, a lesson's processes and
 * scripted users, the orchestration of `lesson run`, the diff between lessons and the README
 * shown in the terminal. Nothing here writes a README: that is ../readme, which builds on this.
 */
export {
  accountsFile,
  findLesson,
  lessonFiles,
  lessonNumberLabel,
  LESSONS_DIR,
  listLessons,
  loadAccounts,
  previousLesson,
  readmePath,
  readReadme,
  type Accounts,
  type BrokenVersion,
  type Lesson,
} from './catalogue.ts';
export {
  cachedStatus,
  hasCheckedClient,
  checkCacheFile,
  checkLesson,
  lessonHash,
  lessonServerScope,
  lessonUsers,
  lessonVerifyFlags,
  readCheckCache,
  saveCheckResult,
  verifyLessonClient,
  verifyLessonServer,
  type CachedCheck,
  type CheckLessonOptions,
  type LessonCheckResult,
} from './check.ts';
export {
  CLUSTER_NODES,
  clusterNominalPorts,
  NOMINAL_REDIS_PORT,
  nodeTerminalName,
  startLessonCluster,
  startRoundRobin,
  type ClusterNode,
  type LessonCluster,
} from './cluster.ts';
export { colourDiff, fixDiff, lessonChanges, unifiedDiff, type FileChange } from './diff.ts';
export { NOMINAL_INSPECTOR_PORT, NOMINAL_SERVER_PORT, normalisePort, type PortRename } from './ports.ts';
export { LESSON_HOST, startLessonServer, startNodeProgram, type LessonProcess, type LessonServer } from './processes.ts';
export { renderMarkdown, renderReadme, type RenderOptions } from './render.ts';
export { joinCommand, LessonPortBusyError, runLesson, type RunLessonOptions, type RunningLesson } from './run.ts';
export { LessonRunError, startLessonSession, type LessonSession, type LessonSessionOptions } from './session.ts';
export { startRedisServer, RedisNotInstalledError, type RedisServer } from './redis-server.ts';
export { loadScenario, runScenario, type RunScenarioOptions, type Scenario, type ScenarioNode, type ScenarioRun, type ScenarioStep } from './scenario.ts';
export { hasSection, readSection, writeSection, type SectionName } from './sections.ts';
export { Terminal, type TranscriptLine } from './terminal.ts';
export { exportTrace, lessonDiagramText, lessonTraces, SINGLE_NODE_PORTS, tracePath, type LessonTrace, type NominalPorts } from './trace.ts';
export {
  checkCacheKey,
  commandLine,
  findTrackLesson,
  inTrack,
  isTrack,
  listTrackLessons,
  previousTrackLesson,
  programCommand,
  readRememberedTrack,
  rememberTrack,
  trackInfo,
  trackOf,
  trackOfFile,
  trackSettingFile,
  TRACKS,
  type Track,
  type TrackInfo,
} from './tracks.ts';
export { initLesson, InitTargetExistsError, lessonDataFiles, lessonInFolder, NotALessonFolderError, type InitResult } from './init.ts';
export { readmeForTrack, TRACK_SECTIONS, trackSection, type TrackSection } from './track-readme.ts';
