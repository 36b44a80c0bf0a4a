import { createApp } from 'vue'
import ElementPlus from 'element-plus'
import 'element-plus/dist/index.css'
import App from './App.vue'
import { i18n, setLocale } from './lib/i18n.js'
import { config, loadConfig } from './lib/config.js'
import { restore } from './lib/session.js'
import { router } from './router.js'
import * as money from './lib/money.js'
import * as forms from './lib/forms.js'

async function start() {
  await loadConfig()
  setLocale(localStorage.getItem('promo.console.locale') || config.default_locale)
  restore()
  createApp(App).use(i18n).use(ElementPlus).use(router).mount('#app')
  window.__console = { money, forms } // the browser tests check the conversions in the real page
}

start()
