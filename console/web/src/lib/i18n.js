// zh-CN and English, switchable at any time (the choice is kept in the browser). The services get
// the same choice in Accept-Language, so their errors come back in it too.
import { computed, ref } from 'vue'
import { createI18n } from 'vue-i18n'
import zhCn from 'element-plus/es/locale/lang/zh-cn'
import en from 'element-plus/es/locale/lang/en'
import messages from './messages.js'

const KEY = 'promo.console.locale'
export const locale = ref(localStorage.getItem(KEY) || 'zh-CN')

export const i18n = createI18n({ legacy: false, locale: locale.value, fallbackLocale: 'en', messages })

export function setLocale(value) {
  locale.value = value
  i18n.global.locale.value = value
  localStorage.setItem(KEY, value)
  document.documentElement.lang = value
}

export const elementLocale = computed(() => (locale.value === 'zh-CN' ? zhCn : en))

// A text given in both languages where it is used: tr(['名称', 'Name'])
export function tr(pair) {
  if (!Array.isArray(pair)) return pair
  return locale.value === 'zh-CN' ? pair[0] : pair[1]
}
