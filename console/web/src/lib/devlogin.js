// Dev mode only: the console's server signs a token for the admin or merchant N (`POST /dev/token`).
import { login } from './session.js'

export async function devLogin(role, businessId) {
  const response = await fetch('/dev/token', { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(role === 'merchant' ? { role, business_id: Number(businessId) } : { role }) })
  if (!response.ok) return false
  return login((await response.json()).token)
}
