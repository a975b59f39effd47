// Vite 6 needs this; Vite 8 is built and served without it (tests/bundlers/bundlers.test.mjs).
export default {
  // Vite <= 6 pre-bundles dependencies into .vite/deps/ but not the .wasm file next to the glue,
  // so `new URL("chat_sdk_bg.wasm", import.meta.url)` would fetch index.html: keep it unbundled.
  optimizeDeps: { exclude: ["chat-sdk-wasm"] },
};
