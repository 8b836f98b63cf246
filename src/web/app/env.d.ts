// Lets TypeScript (tsc --noEmit) see single-file components as Vue components.
declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}
