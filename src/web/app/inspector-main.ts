// The inspector page's entry (`chatlab inspect --web`): mounts the live diagram of every connection.
import { createApp } from 'vue';
import InspectorApp from './InspectorApp.vue';
import './style.css';

createApp(InspectorApp).mount('#app');
