// The web chat's entry: mounts the app; everything it says on the wire is in chat-session.ts.
import { createApp } from 'vue';
import App from './App.vue';
import './style.css';

createApp(App).mount('#app');
