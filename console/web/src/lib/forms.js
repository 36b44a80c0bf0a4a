// Between what a form holds (yuan text, wall-clock times, "1, 2" id lists) and what a service
// takes (fen, ISO times with the offset, integer lists), by each field's type. Pure functions.
import { bpToPercent, fenToYuan, percentToBp, yuanToFen } from './money.js'
import { isoToWall, wallToIso } from './time.js'

export class FormInvalid extends Error {
  constructor(fields) {
    super('invalid form')
    this.fields = fields // { "products.0.price": "invalidMoney" } (message keys)
  }
}

function parseIds(text) {
  const parts = String(text ?? '').split(/[\s,，]+/).filter(Boolean)
  if (!parts.every((p) => /^\d{1,19}$/.test(p))) return null
  return parts.map(Number)
}

function parsePairs(text) { // "12:1, 13:2" -> {12: 1, 13: 2}
  const out = {}
  for (const part of String(text ?? '').split(/[\s,，]+/).filter(Boolean)) {
    const match = /^(\d{1,19})[:：](\d{1,3})$/.exec(part)
    if (!match) return null
    out[match[1]] = Number(match[2])
  }
  return out
}

export function isVisible(field, model) {
  return !field.visible || field.visible(model)
}

// form model -> request body; throws FormInvalid with every field that does not parse
export function toPayload(fields, model, prefix = '', errors = {}) {
  const body = {}
  for (const field of fields) {
    if (!isVisible(field, model) || field.readonly) continue
    const key = prefix + field.prop
    const value = model[field.prop]
    switch (field.type) {
      case 'money':
      case 'percent': {
        const parsed = field.type === 'money' ? yuanToFen(value) : percentToBp(value)
        if (Number.isNaN(parsed)) errors[key] = field.type === 'money' ? 'common.invalidMoney' : 'common.invalidPercent'
        else if (parsed === null && field.required) errors[key] = 'common.required'
        else if (parsed !== null || field.nullable) body[field.prop] = parsed
        break
      }
      case 'datetime':
        if (!value && field.required) errors[key] = 'common.required'
        else body[field.prop] = wallToIso(value)
        break
      case 'ids': {
        const ids = parseIds(value)
        if (ids === null) errors[key] = 'common.invalidIds'
        else body[field.prop] = ids
        break
      }
      case 'pairs': {
        const pairs = parsePairs(value)
        if (pairs === null) errors[key] = 'common.invalidIds'
        else body[field.prop] = pairs
        break
      }
      case 'rows':
        body[field.prop] = (value || []).map((row, i) => toPayload(field.columns, row, `${key}.${i}.`, errors))
        break
      case 'number':
        if ((value === null || value === undefined || value === '') && field.required) errors[key] = 'common.required'
        else if (value !== null && value !== undefined && value !== '') body[field.prop] = Number(value)
        else if (field.nullable) body[field.prop] = null
        break
      default:
        if ((value === null || value === undefined || value === '') && field.required) errors[key] = 'common.required'
        else if (value !== undefined && !(value === '' && field.omitEmpty)) body[field.prop] = value
    }
  }
  if (!prefix && Object.keys(errors).length) throw new FormInvalid(errors)
  return body
}

// a service's record -> form model
export function toModel(fields, item) {
  const model = {}
  for (const field of fields) {
    const value = item?.[field.prop]
    switch (field.type) {
      case 'money': model[field.prop] = fenToYuan(value); break
      case 'percent': model[field.prop] = bpToPercent(value); break
      case 'datetime': model[field.prop] = isoToWall(value); break
      case 'ids': model[field.prop] = (value || []).join(', '); break
      case 'pairs': model[field.prop] = Object.entries(value || {}).map(([k, v]) => `${k}:${v}`).join(', '); break
      case 'rows': model[field.prop] = (value || []).map((row) => toModel(field.columns, row)); break
      default: model[field.prop] = value === undefined ? structuredClone(field.default ?? null) : value
    }
  }
  return model
}

// a new record's form model: each field's default
export function emptyModel(fields) {
  const model = {}
  for (const field of fields) {
    if (field.type === 'rows') model[field.prop] = (field.defaultRows ?? 1) ? [emptyModel(field.columns)] : []
    else model[field.prop] = field.default !== undefined ? structuredClone(field.default)
      : ['money', 'percent', 'datetime', 'ids', 'pairs', 'text', 'textarea'].includes(field.type) ? '' : null
  }
  return model
}

// errors by field path -> the form's top-level fields (a row's error shows on its table, with the row)
export function errorsByField(fields, errors, rowLabel) {
  const out = {}
  for (const [path, message] of Object.entries(errors)) {
    // rule violations name a row's field "products[0].price", request validation "products.0.price"
    const [top, index, ...rest] = path.replace(/\[(\d+)\]/g, '.$1').split('.')
    const field = fields.find((f) => f.prop === top)
    const text = field?.type === 'rows' && index !== undefined ? rowLabel(Number(index) + 1, rest.join('.'), message)
      : message
    const key = field ? top : '_form'
    out[key] = out[key] ? `${out[key]}; ${text}` : text
  }
  return out
}
