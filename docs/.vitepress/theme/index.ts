import DefaultTheme from 'vitepress/theme';
import './custom.css';

/** The default VitePress theme, plus a few styles for the recorded diagrams. */
export default DefaultTheme;
