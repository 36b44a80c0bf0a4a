// Calls a service's admin or merchant API directly (the services allow the console's origin).
// Errors come back as ApiError with the service's stable code, its message in the chosen language
// and, where the service names a field, the message per field ("products.0.price").
import { config } from './config.js'
import { session } from './session.js'
import { locale } from './i18n.js'

export class ApiError extends Error {
  constructor(status, code, message, fields, details) {
    super(message)
    this.status = status
    this.code = code
    this.fields = fields
    this.details = details
  }
}

// The service's errors name fields two ways: request validation (`loc`: ["body", "products", 0,
// "price"]) and rule violations (`details.field`: "discount_price").
export function fieldErrors(details) {
  const fields = {}
  for (const error of details?.errors || []) {
    const loc = (error.loc || []).filter((part, i) => !(i === 0 && ['body', 'query', 'path'].includes(part)))
    if (loc.length) {
      const key = loc.join('.')
      fields[key] = fields[key] ? `${fields[key]}; ${error.msg}` : error.msg
    }
  }
  if (details?.field) fields[details.field] = null // filled with the error's own message by the caller
  return fields
}

// Where a resource lives for the caller: /admin-api/... for the platform, /merchant-api/... for a merchant
export function scoped(path) {
  return path.replace(/^\/(admin|merchant)-api\//, `/${session.role}-api/`)
}

export async function request(service, method, path, { query, body, raw, headers: extra } = {}) {
  const base = config.services[service]
  if (!base) throw new ApiError(0, 'SERVICE_UNKNOWN', `no address for ${service}`, {}, {})
  const url = new URL(base + path)
  for (const [key, value] of Object.entries(query || {})) {
    if (value === null || value === undefined || value === '') continue
    for (const one of Array.isArray(value) ? value : [value]) url.searchParams.append(key, one)
  }
  const headers = { 'Accept-Language': locale.value, Authorization: `Bearer ${session.token}`, ...extra }
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  let response
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  } catch (error) {
    throw new ApiError(0, 'NETWORK', `${service}: ${error.message}`, {}, {})
  }
  if (raw && response.ok) return response
  const text = await response.text()
  const data = text ? safeJson(text) : null
  if (!response.ok) {
    const error = data?.error || {}
    const fields = fieldErrors(error.details)
    for (const key of Object.keys(fields)) if (fields[key] === null) fields[key] = error.message
    throw new ApiError(response.status, error.code || `HTTP_${response.status}`, error.message || text ||
      response.statusText, fields, error.details || {})
  }
  return data
}

function safeJson(text) {
  try { return JSON.parse(text) } catch { return null }
}

export const api = {
  get: (service, path, query) => request(service, 'GET', path, { query }),
  post: (service, path, body, query, headers) => request(service, 'POST', path, { body, query, headers }),
  put: (service, path, body) => request(service, 'PUT', path, { body }),
  del: (service, path, query) => request(service, 'DELETE', path, { query }),
}

// A CSV export: fetched with the token, saved under the name the service gives
export async function download(service, path, query, fallbackName) {
  const response = await request(service, 'GET', path, { query, raw: true })
  const disposition = response.headers.get('Content-Disposition') || ''
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] || fallbackName
  const blob = await response.blob()
  const link = document.createElement('a')
  link.href = URL.createObjectURL(blob)
  link.download = name
  document.body.appendChild(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000)
  return { name, size: blob.size }
}

// One per attempt of a write the service wants made once (a verification): a retry of the same
// attempt sends the same key. randomUUID needs a secure context; plain http falls back.
export function idempotencyKey() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID()
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`
}
