import { defineConfig, searchForWorkspaceRoot } from "vite";
import react from "@vitejs/plugin-react";

export default defineConfig({
  plugins: [react()],
  // Needed on Vite <= 6, harmless on Vite 8: dev-server pre-bundling would move the SDK's glue
  // away from its .wasm file (see docs/bundlers.md).
  optimizeDeps: { exclude: ["chat-sdk-wasm"] },
  // The rest is only because this example links the package from ../../pkg (a symlink outside
  // this folder); an app that installs the tarball or the registry package needs neither.
  // chat-sdk-wasm/react imports react: resolve it from this app, not from next to ../../pkg.
  resolve: { dedupe: ["react", "react-dom"] },
  server: { fs: { allow: [searchForWorkspaceRoot(process.cwd()), "../../pkg"] } },
});
