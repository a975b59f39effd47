// Used by Vite 8 and Vite 6 alike (tests/bundlers/bundlers.test.mjs picks the version).
export default {
  // Vite <= 6 pre-bundles dependencies into .vite/deps/ but not the .wasm file next to the glue,
  // so `new URL("chat_sdk_bg.wasm", import.meta.url)` would fetch index.html: keep it unbundled.
  optimizeDeps: { exclude: ["chat-sdk-wasm"] },
};
