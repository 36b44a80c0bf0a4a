// Who is logged in: the bearer token (the mall's IdP's in production, a dev token in dev mode)
// and what it says (role, business_id). The services verify it; the console only reads it.
import { reactive } from 'vue'

const KEY = 'promo.console.token'

export const session = reactive({ token: '', role: '', businessId: null, subject: '', expiresAt: 0 })

function decode(token) {
  const part = token.split('.')[1]
  if (!part) return null
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='))
    return JSON.parse(decodeURIComponent(escape(json)))
  } catch {
    return null
  }
}

export function login(token) {
  const claims = decode(token)
  if (!claims || !['admin', 'merchant'].includes(claims.role)) return false
  if (claims.role === 'merchant' && !claims.business_id) return false
  Object.assign(session, { token, role: claims.role, businessId: claims.business_id ?? null,
    subject: String(claims.sub ?? ''), expiresAt: (claims.exp ?? 0) * 1000 })
  localStorage.setItem(KEY, token)
  return true
}

export function logout() {
  Object.assign(session, { token: '', role: '', businessId: null, subject: '', expiresAt: 0 })
  localStorage.removeItem(KEY)
}

export function restore() {
  const fromIdp = new URLSearchParams(location.hash.slice(1)).get('token')
  if (fromIdp) history.replaceState(null, '', location.pathname + location.search)
  const token = fromIdp || localStorage.getItem(KEY)
  if (token && !login(token)) logout()
  if (session.expiresAt && session.expiresAt < Date.now()) logout()
}

export const isAdmin = () => session.role === 'admin'
