import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/bench/**", "node_modules/**"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real brokers, ptys and browsers: keep the 2-core machine calm.
    fileParallelism: false,
    pool: "forks",
  },
});
