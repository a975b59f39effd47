import { defineConfig, searchForWorkspaceRoot } from "vite";
import vue from "@vitejs/plugin-vue";

export default defineConfig({
  plugins: [vue()],
  // The SDK's glue loads its wasm with `new URL("chat_sdk_bg.wasm", import.meta.url)`; dev-server
  // pre-bundling would move the glue away from the .wasm file, so serve the package unbundled.
  optimizeDeps: { exclude: ["chat-sdk-wasm"] },
  // Only because this example links the package from ../../pkg (outside this folder): let the dev
  // server read it. Not needed when chat-sdk-wasm is installed from the registry.
  server: { fs: { allow: [searchForWorkspaceRoot(process.cwd()), "../../pkg"] } },
});
