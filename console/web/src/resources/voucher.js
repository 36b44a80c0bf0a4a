// Vouchers (核销券): the platform's review queue, a merchant's stores and voucher products, the
// verification records and the daily report.
import { ElMessage } from 'element-plus'
import { download } from '../lib/api.js'
import { ask } from '../lib/dialogs.js'
import { today } from '../lib/time.js'
import { C, F, RECORD_KIND, REVIEW_KIND, REVIEW_OUTCOME, REVIEW_STATUS, STATUS, VOUCHER_KIND } from './options.js'

const merchant = (_row, session) => session.role === 'merchant'
const VALIDITY = [{ value: 1, label: ['固定时间段', 'A fixed window'] }, { value: 2, label: ['购买后天数', 'Days from payment'] }]

export const voucherReviews = {
  name: 'voucherReviews', service: 'voucher', path: '/admin-api/voucher/reviews', actionsWidth: 160,
  filters: [
    { prop: 'status', type: 'select', label: ['审核状态', 'Status'], options: REVIEW_OUTCOME, default: 1 },
    { prop: 'kind', type: 'select', label: ['类型', 'Kind'], options: REVIEW_KIND },
    { prop: 'business_id', type: 'number', label: ['商家编号', 'Merchant'], min: 1 },
  ],
  columns: [C.id, { prop: 'kind', type: 'enum', options: REVIEW_KIND, label: ['类型', 'Kind'], width: 110 },
    { prop: 'target_id', label: ['对象编号', 'Target'], width: 80 },
    { prop: 'business_id', label: ['商家', 'Merchant'], width: 70 },
    { prop: 'terms', label: ['提交内容', 'Submitted terms'], width: 260,
      value: (r) => [r.terms.name, r.terms.address, r.terms.value !== undefined ? `¥${(r.terms.value / 100).toFixed(2)}` : '']
        .filter(Boolean).join(' · ') },
    { prop: 'status', type: 'enum', options: REVIEW_OUTCOME, label: ['状态', 'Status'], width: 90 },
    { prop: 'submitted_at', type: 'time', label: ['提交时间', 'Submitted'], width: 150 },
    { prop: 'reason', label: ['驳回原因', 'Reason'], width: 140 }],
  can: {},
  rowActions: [
    { key: 'approve', label: ['通过', 'Approve'], show: (row) => row.status === 1, run: async (row, { api, t, reload }) => {
      await api.post('voucher', `/admin-api/voucher/reviews/${row.id}/approve`)
      ElMessage.success(t('review.approved'))
      reload()
    } },
    { key: 'reject', label: ['驳回', 'Reject'], show: (row) => row.status === 1, run: async (row, { api, t, reload }) => {
      const reason = await ask(['驳回', 'Reject'], ['驳回原因', 'Reason'], { pattern: /\S/, error: ['请填写驳回原因',
        'Give a reason for the rejection'] })
      await api.post('voucher', `/admin-api/voucher/reviews/${row.id}/reject`, { reason })
      ElMessage.success(t('review.rejected'))
      reload()
    } },
  ],
}

const reviewColumns = [{ prop: 'review_status', type: 'enum', options: REVIEW_STATUS, label: ['审核', 'Review'], width: 90 }, C.status]

export const voucherStores = {
  name: 'voucherStores', service: 'voucher', path: '/admin-api/voucher/stores', owned: true,
  filters: [{ prop: 'review_status', type: 'select', label: ['审核', 'Review'], options: REVIEW_STATUS },
    { prop: 'status', type: 'select', label: ['启停', 'On/off'], options: STATUS }],
  columns: [C.id, C.name, { prop: 'address', label: ['地址', 'Address'], width: 180 },
    { prop: 'lat', label: ['纬度', 'Latitude'], width: 90 }, { prop: 'lon', label: ['经度', 'Longitude'], width: 90 },
    ...reviewColumns],
  form: [F.name, { prop: 'address', type: 'text', label: ['地址', 'Address'], required: true },
    { prop: 'phone', type: 'text', label: ['电话', 'Phone'], default: '' },
    { prop: 'opening_hours', type: 'text', label: ['营业时间', 'Opening hours'], default: '',
      placeholder: ['如 10:00-22:00', 'e.g. 10:00-22:00'] },
    { prop: 'lat', type: 'number', label: ['纬度', 'Latitude'], min: -90, max: 90, step: 0.000001, precision: 6,
      required: true, hint: ['-90 至 90，如 31.230416', '-90 to 90, e.g. 31.230416'] },
    { prop: 'lon', type: 'number', label: ['经度', 'Longitude'], min: -180, max: 180, step: 0.000001, precision: 6,
      required: true, hint: ['-180 至 180，如 121.473701', '-180 to 180, e.g. 121.473701'] }],
  can: { create: merchant, edit: merchant, status: merchant },
}

export const voucherProducts = {
  name: 'voucherProducts', service: 'voucher', path: '/admin-api/voucher/products', owned: true,
  filters: voucherStores.filters,
  columns: [C.id, C.name, { prop: 'kind', type: 'enum', options: VOUCHER_KIND, label: ['类型', 'Kind'], width: 90 },
    { prop: 'value', type: 'money', label: ['面值', 'Value'], width: 90 },
    { prop: 'max_using_times', label: ['可用次数', 'Uses'], width: 80 },
    { prop: 'store_ids', type: 'list', label: ['适用门店', 'Stores'], width: 90 }, ...reviewColumns],
  form: [F.name, { prop: 'kind', type: 'radio', label: ['类型', 'Kind'], options: VOUCHER_KIND, default: 1, required: true },
    { prop: 'value', type: 'money', label: ['面值（元）', 'Value (yuan)'], required: true },
    { prop: 'max_using_times', type: 'number', label: ['可用次数', 'Uses'], min: 1, max: 100, default: 1 },
    { prop: 'cost', type: 'money', label: ['结算成本（元）', 'Cost (yuan)'], default: '0.00' },
    { prop: 'bright_desc', type: 'text', label: ['亮点', 'Highlight'], default: '' },
    { prop: 'image_url', type: 'text', label: ['图片地址', 'Image URL'], default: '' },
    { prop: 'validity_type', type: 'radio', label: ['有效期', 'Validity'], options: VALIDITY, default: 2, required: true },
    { prop: 'valid_start_at', type: 'datetime', label: ['生效时间', 'Valid from'], visible: (m) => m.validity_type === 1 },
    { prop: 'valid_end_at', type: 'datetime', label: ['失效时间', 'Valid until'], visible: (m) => m.validity_type === 1 },
    { prop: 'valid_days', type: 'number', label: ['有效天数', 'Valid days'], min: 1, max: 3650, default: 30,
      visible: (m) => m.validity_type === 2 },
    { prop: 'selling_store_id', type: 'number', label: ['售卖门店', 'Selling store'], min: 1, required: true },
    { prop: 'store_ids', type: 'ids', label: ['适用门店编号', 'Store ids'], required: true },
    { prop: 'spu_id', type: 'number', label: ['SPU', 'SPU'], min: 1, required: true },
    { prop: 'sku_id', type: 'number', label: ['SKU', 'SKU'], min: 1, required: true }],
  // the product behind a voucher product cannot change once created
  beforeSave: (body, editing) => {
    if (editing) { delete body.spu_id; delete body.sku_id }
    return body
  },
  can: { create: merchant, edit: merchant, status: merchant },
}

const DATE_FILTERS = [{ prop: 'store_id', type: 'number', label: ['门店编号', 'Store'], min: 1 },
  { prop: 'date_from', type: 'date', label: ['开始日期', 'From'] }, { prop: 'date_to', type: 'date', label: ['结束日期', 'To'] }]

export const voucherVerifications = {
  name: 'voucherVerifications', service: 'voucher', path: '/admin-api/voucher/verifications', owned: true,
  filters: [...DATE_FILTERS, { prop: 'kind', type: 'select', label: ['类型', 'Kind'], options: RECORD_KIND }],
  columns: [C.id, { prop: 'kind', type: 'enum', options: RECORD_KIND, label: ['类型', 'Kind'], width: 80 },
    { prop: 'voucher_id', label: ['券', 'Voucher'], width: 70 }, { prop: 'store_id', label: ['门店', 'Store'], width: 70 },
    { prop: 'actual_minus_value', type: 'money', label: ['核销金额', 'Amount'], width: 100 },
    { prop: 'times_taken', label: ['次数', 'Uses'], width: 60 },
    { prop: 'surplus_value_after', type: 'money', label: ['剩余金额', 'Value left'], width: 100 },
    { prop: 'business_date', label: ['营业日', 'Business day'], width: 110 },
    { prop: 'created_at', type: 'time', label: ['时间', 'At'], width: 150 }],
  can: {},
  rowActions: [{ key: 'reversal', label: ['冲正', 'Reverse'], show: (row, s) => s.role === 'merchant' && row.kind === 1,
    run: async (row, { api, t, reload }) => {
      await api.post('voucher', `/merchant-api/voucher/verifications/${row.id}/reversal`)
      ElMessage.success(t('common.done'))
      reload()
    } }],
}

export const voucherReport = {
  name: 'voucherReport', service: 'voucher', path: '/admin-api/voucher/reports/daily', owned: true, idProp: 'business_date',
  filters: DATE_FILTERS.map((f) => (f.prop === 'date_to' ? { ...f, default: today() } : f)),
  columns: [{ prop: 'business_date', label: ['营业日', 'Business day'], width: 110 },
    { prop: 'store_name', label: ['门店', 'Store'], width: 140 },
    { prop: 'verifications', label: ['核销次数', 'Verifications'], width: 90 },
    { prop: 'reversals', label: ['冲正次数', 'Reversals'], width: 90 },
    { prop: 'value_verified', type: 'money', label: ['核销金额', 'Value verified'], width: 110 },
    { prop: 'times_verified', label: ['核销次数（次卡）', 'Uses verified'], width: 110 },
    { prop: 'cost', type: 'money', label: ['结算成本', 'Cost'], width: 100 }],
  can: {},
  toolbar: [{ key: 'csv', label: ['导出 CSV', 'Export CSV'], run: async (_row, { scoped, query }) => {
    const { page: _page, size: _size, ...filters } = query // the CSV has every row of the filtered range
    await download('voucher', scoped('/admin-api/voucher/reports/daily.csv'), filters, 'voucher-daily.csv')
  } }],
}
