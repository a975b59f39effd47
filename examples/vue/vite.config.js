import { defineConfig, searchForWorkspaceRoot } from "vite";
import vue from "@vitejs/plugin-vue";

export default defineConfig({
  plugins: [vue()],
  // Needed on Vite <= 6, harmless on Vite 8: dev-server pre-bundling would move the SDK's glue
  // away from its .wasm file (see docs/bundlers.md).
  optimizeDeps: { exclude: ["chat-sdk-wasm"] },
  // The rest is only because this example links the package from ../../pkg (a symlink outside
  // this folder); an app that installs the tarball or the registry package needs neither.
  // chat-sdk-wasm/vue imports vue: resolve it from this app, not from next to ../../pkg.
  resolve: { dedupe: ["vue"] },
  server: { fs: { allow: [searchForWorkspaceRoot(process.cwd()), "../../pkg"] } },
});
