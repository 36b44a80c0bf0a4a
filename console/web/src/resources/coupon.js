import { download } from '../lib/api.js'
import { ask, showFigures } from '../lib/dialogs.js'
import { ElMessage } from 'element-plus'
import { C, F, PRODUCT_SCOPE, STATUS } from './options.js'

const TAKE_TYPE = [{ value: 1, label: ['用户领取', 'Buyers take it'] }, { value: 2, label: ['后台发放', 'Given'] },
  { value: 3, label: ['新人注册', 'New members'] }]
const VALIDITY = [{ value: 1, label: ['固定日期', 'Fixed dates'] }, { value: 2, label: ['领取后天数', 'Days after taking'] }]
const DISCOUNT = [{ value: 1, label: ['满减', 'Amount off'] }, { value: 2, label: ['折扣', 'Percent'] }]
const byDate = (m) => m.validity_type === 1
const byTerm = (m) => m.validity_type === 2
const isAdmin = (_row, session) => session.role === 'admin'

export const couponTemplates = {
  name: 'couponTemplates', service: 'coupon', path: '/admin-api/coupon/templates', owned: true, actionsWidth: 300,
  filters: [
    { prop: 'name', type: 'text', label: ['名称', 'Name'] },
    { prop: 'status', type: 'select', label: ['启停', 'On/off'], options: STATUS },
    { prop: 'discount_type', type: 'select', label: ['优惠类型', 'Discount'], options: DISCOUNT },
    { prop: 'take_type', type: 'select', label: ['领取方式', 'Taken by'], options: TAKE_TYPE },
  ],
  columns: [C.id, C.name,
    { prop: 'discount_type', type: 'enum', options: DISCOUNT, label: ['优惠', 'Discount'], width: 80 },
    { prop: 'discount_price', label: ['面额 / 折扣', 'Value'], width: 110,
      value: (r) => (r.discount_type === 1 ? `¥${(r.discount_price / 100).toFixed(2)}` : `${r.discount_percent}%`) },
    { prop: 'use_price', type: 'money', label: ['门槛', 'Threshold'], width: 90 },
    { prop: 'take_type', type: 'enum', options: TAKE_TYPE, label: ['领取方式', 'Taken by'], width: 100 },
    { prop: 'take_count', label: ['已领 / 总量', 'Taken / total'], width: 110,
      value: (r) => `${r.take_count} / ${r.total_count === -1 ? '∞' : r.total_count}` },
    { prop: 'use_count', label: ['已用', 'Used'], width: 70 },
    C.status],
  form: [
    F.name,
    { prop: 'description', type: 'textarea', label: ['说明', 'Description'], default: '' },
    { prop: 'take_type', type: 'radio', label: ['领取方式', 'Taken by'], options: TAKE_TYPE, default: 1, required: true },
    { prop: 'total_count', type: 'number', label: ['发放总量', 'Total'], min: -1, default: 100, required: true,
      hint: ['-1 表示不限量', '-1: no limit'] },
    { prop: 'take_limit_count', type: 'number', label: ['每人限领', 'Per buyer'], min: -1, default: 1,
      required: true, hint: ['-1 表示不限', '-1: no limit'] },
    { prop: 'use_price', type: 'money', label: ['使用门槛（元）', 'Threshold (yuan)'], default: '0.00',
      hint: ['订单满多少可用，0 为无门槛', 'Usable from this order amount; 0: any'] },
    { prop: 'product_scope', type: 'radio', label: ['适用商品', 'Products'], options: PRODUCT_SCOPE, default: 1 },
    { prop: 'product_scope_values', type: 'ids', label: ['商品或分类编号', 'Product or category ids'],
      visible: (m) => m.product_scope !== 1, placeholder: ['如 101, 102', 'e.g. 101, 102'] },
    { prop: 'validity_type', type: 'radio', label: ['有效期', 'Validity'], options: VALIDITY, default: 1, required: true },
    { prop: 'valid_start', type: 'datetime', label: ['生效时间', 'Valid from'], visible: byDate, required: true },
    { prop: 'valid_end', type: 'datetime', label: ['失效时间', 'Valid until'], visible: byDate, required: true },
    { prop: 'fixed_start_term', type: 'number', label: ['领取后第几天生效', 'Starts after (days)'], min: 0, default: 0,
      visible: byTerm },
    { prop: 'fixed_end_term', type: 'number', label: ['有效天数', 'Lasts (days)'], min: 1, default: 7, visible: byTerm },
    { prop: 'discount_type', type: 'radio', label: ['优惠类型', 'Discount'], options: DISCOUNT, default: 1, required: true },
    { prop: 'discount_price', type: 'money', label: ['优惠金额（元）', 'Amount off (yuan)'],
      visible: (m) => m.discount_type === 1, required: true },
    { prop: 'discount_percent', type: 'number', label: ['支付比例（%）', 'Buyer pays (%)'], min: 1, max: 99,
      visible: (m) => m.discount_type === 2, required: true, hint: ['80 表示打八折', '80: the buyer pays 80%'] },
    { prop: 'discount_limit_price', type: 'money', label: ['最多优惠（元）', 'At most off (yuan)'],
      visible: (m) => m.discount_type === 2 },
    F.status,
  ],
  can: { create: true, edit: true, status: true, delete: true },
  rowActions: [
    { key: 'stats', label: ['数据', 'Figures'], run: async (row, { api, scoped }) => showFigures(row.name,
      await api.get('coupon', scoped(`/admin-api/coupon/templates/${row.id}/stats`)),
      { issued: ['已发放', 'Issued'], unused: ['未使用', 'Unused'], held: ['订单占用', 'Held'], used: ['已使用', 'Used'],
        expired: ['已过期', 'Expired'], revoked: ['已作废', 'Revoked'], orders: ['订单数', 'Orders'],
        discount_given: ['优惠金额', 'Discount given'] }, ['discount_given']) },
    { key: 'give', label: ['发放', 'Give'], show: isAdmin, run: async (row, { api, t }) => {
      const text = await ask(['发放优惠券', 'Give coupons'], ['买家编号，逗号分隔', 'Buyer ids, separated by commas'],
        { pattern: /^\s*\d+(\s*[,，]\s*\d+)*\s*$/, error: ['请输入以逗号分隔的编号', 'Enter ids separated by commas'] })
      const result = await api.post('coupon', `/admin-api/coupon/templates/${row.id}/give`,
        { user_ids: text.split(/[,，]/).map((s) => Number(s.trim())) })
      ElMessage.success(`${t('common.done')}: ${result.given.length} / ${result.given.length + result.refused.length}`)
    } },
    { key: 'codes', label: ['生成兑换码', 'Codes'], show: isAdmin, run: async (row, { api, t }) => {
      const count = await ask(['生成兑换码', 'Generate codes'], ['数量（1 至 10000）', 'How many (1 to 10,000)'],
        { pattern: /^\d{1,5}$/, error: ['请输入 1 至 10000', 'Enter 1 to 10,000'] })
      const result = await api.post('coupon', `/admin-api/coupon/templates/${row.id}/codes`, { count: Number(count) })
      ElMessage.success(`${t('common.done')}: ${result.created}`)
    } },
    { key: 'codes-csv', label: ['下载兑换码', 'Codes CSV'], show: isAdmin, run: async (row) => {
      await download('coupon', `/admin-api/coupon/templates/${row.id}/codes.csv`, {}, `coupon-codes-${row.id}.csv`)
    } },
  ],
}
