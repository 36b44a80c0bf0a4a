// Small dialogs the pages' actions use: a figures table, a prompt.
import { h } from 'vue'
import { ElMessageBox } from 'element-plus'
import { formatYuan } from './money.js'
import { i18n, tr } from './i18n.js'

const t = (key, params) => i18n.global.t(key, params)

// labels: {key: ['中文', 'English']}; money: keys shown in yuan
export function showFigures(title, data, labels, money = []) {
  const rows = Object.keys(labels).filter((key) => key in data).map((key) =>
    h('tr', [h('th', { style: 'text-align:left;padding:4px 16px 4px 0' }, tr(labels[key])),
      h('td', { 'data-figure': key }, money.includes(key) ? formatYuan(data[key]) : String(data[key]))]))
  return ElMessageBox.alert(h('table', { class: 'figures' }, rows), title, { confirmButtonText: t('common.confirm') })
}

export async function ask(title, label, { pattern, error } = {}) {
  const { value } = await ElMessageBox.prompt(tr(label), tr(title), {
    confirmButtonText: t('common.confirm'), cancelButtonText: t('common.cancel'),
    inputPattern: pattern, inputErrorMessage: error ? tr(error) : undefined,
  }).catch(() => { throw 'cancel' })
  return value
}
