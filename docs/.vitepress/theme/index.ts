import type { Theme } from 'vitepress';
import DefaultTheme from 'vitepress/theme';
import RecordedDiagram from './RecordedDiagram.vue';
import './custom.css';

/**
 * The default VitePress theme, plus the recorded diagrams: `<RecordedDiagram>` on any page draws a
 * recording with the web inspector's SequenceDiagram.vue (see RecordedDiagram.vue).
 */
export default {
  extends: DefaultTheme,
  enhanceApp({ app }) {
    app.component('RecordedDiagram', RecordedDiagram);
  },
} satisfies Theme;
