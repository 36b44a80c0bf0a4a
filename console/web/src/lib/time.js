// Times are shown and entered in the business timezone (from /config.json), whatever the
// operator's browser is set to; the services get ISO 8601 with the offset.
import dayjs from 'dayjs'
import utc from 'dayjs/plugin/utc'
import timezone from 'dayjs/plugin/timezone'

dayjs.extend(utc)
dayjs.extend(timezone)

let zone = 'Asia/Shanghai'
export function setZone(name) { zone = name }

// "2026-12-02T04:00:00Z" -> "2026-12-02 12:00" (Asia/Shanghai)
export function showTime(iso) {
  if (!iso) return ''
  return dayjs(iso).tz(zone).format('YYYY-MM-DD HH:mm')
}

// What the date-time picker holds ("2026-12-02 12:00:00", a wall time in the business zone) -> ISO with offset
export function wallToIso(wall) {
  if (!wall) return null
  return dayjs.tz(wall, 'YYYY-MM-DD HH:mm:ss', zone).format()
}

export function isoToWall(iso) {
  if (!iso) return ''
  return dayjs(iso).tz(zone).format('YYYY-MM-DD HH:mm:ss')
}

export function today() { return dayjs().tz(zone).format('YYYY-MM-DD') }

export function nowMs() { return Date.now() }

// The end of a business-zone day ("2026-12-31" -> that day's 23:59:59.999 there), in ms
export function dayEndMs(date) { return dayjs.tz(`${date} 23:59:59`, 'YYYY-MM-DD HH:mm:ss', zone).valueOf() + 999 }
export function dayStartMs(date) { return dayjs.tz(`${date} 00:00:00`, 'YYYY-MM-DD HH:mm:ss', zone).valueOf() }
export function ms(iso) { return dayjs(iso).valueOf() }
