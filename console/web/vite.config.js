import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// `npm ci && npm run build` writes dist/, which is committed: `make run` serves it with Python only.
export default defineConfig({
  plugins: [vue()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      output: {
        manualChunks: { 'element-plus': ['element-plus', '@element-plus/icons-vue'], vue: ['vue', 'vue-router', 'vue-i18n'] },
      },
    },
  },
  test: { environment: 'node', include: ['src/**/*.test.js'] },
})
