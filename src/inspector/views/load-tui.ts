import type { createTuiView } from './tui.ts';

/**
 * Loads the full-screen view on demand: blessed is heavy, so only a tool that draws the terminal
 * UI pays for loading it. Resolves to {@link createTuiView}.
 */
export async function loadTuiView(): Promise<typeof createTuiView> {
  return (await import('./tui.ts')).createTuiView;
}
