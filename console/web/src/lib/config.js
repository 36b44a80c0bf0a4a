// Runtime configuration from the console's server (/config.json): nothing is baked into the build.
import { reactive } from 'vue'
import { setZone } from './time.js'

export const config = reactive({ services: {}, timezone: 'Asia/Shanghai', default_locale: 'zh-CN', dev: false,
  login_url: '' })

export async function loadConfig() {
  const response = await fetch('/config.json', { cache: 'no-store' })
  Object.assign(config, await response.json())
  setZone(config.timezone)
}
