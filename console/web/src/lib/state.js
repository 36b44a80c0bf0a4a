// An activity's state as the lists show it: not started / running / ended / closed.
import { dayEndMs, dayStartMs, ms, nowMs } from './time.js'

export function activityState(item, now = nowMs()) {
  if (item.state) return item.state // pricing computes it itself
  if (item.status === 1 || item.closed_at) return 'closed' // CommonStatus: 0 enabled, 1 disabled or closed
  const start = item.start_at ? ms(item.start_at) : item.start_date ? dayStartMs(item.start_date) : null
  const end = item.end_at ? ms(item.end_at) : item.end_date ? dayEndMs(item.end_date) : null
  if (start !== null && now < start) return 'not_started'
  if (end !== null && now > end) return 'ended'
  return 'running'
}

export const STATE_TAG = { not_started: 'info', running: 'success', ended: 'warning', closed: 'danger' }
