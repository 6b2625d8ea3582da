import { defineConfig } from 'vitest/config';

// `npm run dev` serves the page with hot reload and forwards the clip API and the page's
// settings to a running local stack (scripts/local-stack.sh), so both stay same-origin as they
// are when the stack itself serves the built page.
const stack = process.env.LIVE_CLIPS_API ?? 'http://127.0.0.1:3000';

export default defineConfig({
  server: {
    proxy: {
      '/api': stack,
      '/config.json': stack,
    },
  },
  build: {
    target: 'es2022',
    rollupOptions: {
      // hls.js changes far less often than the page: its own file stays cached across releases.
      output: { manualChunks: { hls: ['hls.js'] } },
    },
    // hls.js alone is about 600 kB minified (190 kB compressed).
    chunkSizeWarningLimit: 700,
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
