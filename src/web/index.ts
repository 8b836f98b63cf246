/**
 * `chatlab web`: a web chat for any chatlab/1 server, with its wire drawn beside it. An HTTP
 * server for the Vue app (built on first run, see app-build.ts), a WebSocket↔TCP bridge per
 * browser session (bridge.ts) and a diagram feed of that session's frames (wire-feed.ts).
 */
export { startWebServer, CHAT_PATH, WIRE_PATH, MAX_SESSIONS, MAX_WS_MESSAGE_BYTES, SESSION_PATTERN, type WebServer, type WebServerOptions } from './web-server.ts';
export { WebSocketBridge, BROWSER_HIGH_WATER_BYTES, BROWSER_LOW_WATER_BYTES, CLOSE_CODES, type BridgeOptions } from './bridge.ts';
export { WireFeed, WIRE_FEED_MAX_ROWS } from './wire-feed.ts';
export { DiagramFeed, CLOSE_FELL_BEHIND, WIRE_FEED_MAX_BUFFERED_BYTES } from './diagram-feed.ts';
export { InspectorFeed } from './inspector-feed.ts';
export { recordedDiagram, RecordedDiagramTooLongError, type RecordedDiagram } from './recorded-diagram.ts';
export { startInspectorWebServer, INSPECT_FEED_PATH, INSPECTOR_PAGE, type InspectorWebServer, type InspectorWebServerOptions } from './inspector-web-server.ts';
export { ensureAppBuilt, appSourceHash, APP_CACHE_DIR } from './app-build.ts';
export { allowedHosts, isAllowedOrigin } from './origin.ts';
export { toDiagramRow, toDiagramLifeline, type DiagramLifeline, type DiagramRow, type DiagramUpdate } from './diagram-row.ts';
