import { createRouter, createWebHistory } from 'vue-router'
import { session } from './lib/session.js'
import { MENU } from './resources/index.js'
import Login from './pages/Login.vue'
import Dashboard from './pages/Dashboard.vue'
import Simulator from './pages/Simulator.vue'
import VoucherVerify from './pages/VoucherVerify.vue'
import ResourceView from './pages/ResourceView.vue'

export const PAGES = { dashboard: '/', simulator: '/simulator', voucherVerify: '/voucher/verify' }
export const pathOf = (key) => PAGES[key] || `/r/${key}`

const rolesOf = Object.fromEntries(MENU.flatMap((item) => item.children || [item]).map((item) => [item.key, item.roles]))

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/login', component: Login, meta: { public: true } },
    { path: '/', component: Dashboard, meta: { key: 'dashboard' } },
    { path: '/simulator', component: Simulator, meta: { key: 'simulator' } },
    { path: '/voucher/verify', component: VoucherVerify, meta: { key: 'voucherVerify' } },
    { path: '/r/:name', component: ResourceView, props: true },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})

router.beforeEach((to) => {
  if (to.meta.public) return true
  if (!session.token) return { path: '/login', query: { next: to.fullPath } }
  const key = to.meta.key || to.params.name
  if (!(rolesOf[key] || []).includes(session.role)) return '/'
  return true
})
