import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The `vscode` module exists only inside VS Code: tests get test/vscode.ts in its place.
export default defineConfig({
  resolve: {
    alias: { vscode: fileURLToPath(new URL("./test/vscode.ts", import.meta.url)) },
  },
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
  },
});
