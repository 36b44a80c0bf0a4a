// Money is shown and entered in yuan and sent in fen (integers). Conversions work on the decimal
// text, never through floating point: "19.9" -> 1990, 1990 -> "19.90".

const YUAN = /^\s*(\d{1,11})(?:\.(\d{1,2}))?\s*$/

export function yuanToFen(text) {
  if (text === null || text === undefined) return null
  const value = String(text)
  if (value.trim() === '') return null
  const match = YUAN.exec(value)
  if (!match) return NaN
  const cents = (match[2] || '').padEnd(2, '0')
  return Number(match[1]) * 100 + Number(cents)
}

export function fenToYuan(fen) {
  if (fen === null || fen === undefined || fen === '') return ''
  const value = Number(fen)
  if (!Number.isInteger(value)) return ''
  const sign = value < 0 ? '-' : ''
  const abs = Math.abs(value)
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`
}

export function formatYuan(fen) {
  const text = fenToYuan(fen)
  return text === '' ? '' : `¥${text}`
}

// "95" (percent the buyer pays) <-> 9500 basis points
export function percentToBp(text) {
  if (text === null || text === undefined || String(text).trim() === '') return null
  const match = /^\s*(\d{1,3})(?:\.(\d{1,2}))?\s*$/.exec(String(text))
  if (!match) return NaN
  return Number(match[1]) * 100 + Number((match[2] || '').padEnd(2, '0'))
}

export function bpToPercent(bp) {
  if (bp === null || bp === undefined) return ''
  const value = Number(bp)
  return value % 100 === 0 ? String(value / 100) : (value / 100).toFixed(2)
}
