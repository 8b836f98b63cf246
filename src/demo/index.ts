/**
 * The demo: the scripted chat (alice, bob, carol, all ten steps) that `chatlab demo` and
 * `npm start` play through the inspector, and the scenario alone, for a recording or a test.
 */
export { runDemo, type DemoOptions, type DemoResult } from './demo.ts';
export { DEMO_ACCOUNTS, DEMO_MESSAGES, runScenario, type DemoUser, type ScenarioOptions, type ScenarioResult } from './scenario.ts';
