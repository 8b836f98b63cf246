// blessed-contrib ships no types; the inspector uses only its sparkline widget.
declare module 'blessed-contrib/lib/widget/sparkline.js' {
  import type { Widgets } from 'blessed';

  interface SparklineOptions extends Widgets.BoxOptions {
    style?: Widgets.Types.TStyle & { titleFg?: string };
  }

  /** A box that draws one sparkline per dataset, each under its title. */
  class Sparkline extends Widgets.BoxElement {
    constructor(options: SparklineOptions);
    setData(titles: string[], datasets: number[][]): void;
  }

  export default Sparkline;
}
