// The time-boxed activities: limited-time discounts, spend-and-save, seckill, group buys,
// bargains, the points mall. Each list shows the activity's state.
import { bpToPercent, formatYuan, yuanToFen, fenToYuan } from '../lib/money.js'
import { FormInvalid } from '../lib/forms.js'
import { showFigures } from '../lib/dialogs.js'
import { activityState } from '../lib/state.js'
import { C, F, NAME_STATUS_FILTERS, PRODUCT_SCOPE } from './options.js'

// A list column with each product's terms, e.g. "4011: ¥9.90" (several SKUs: joined by "；")
const termsColumn = (label, terms) => ({ prop: 'terms', label, width: 180,
  value: (r) => r.products.map((p) => `${p.sku_id}: ${terms(p)}`).join('；') })

const notClosed = (row) => activityState(row) !== 'closed'
const deletable = (row) => ['closed', 'ended'].includes(activityState(row))
const ACTIVITY = { create: true, edit: notClosed, close: notClosed, delete: deletable }

function statsAction(service, path, labels, money) {
  return { key: 'stats', label: ['数据', 'Figures'], run: async (row, { api, scoped }) =>
    showFigures(row.name, await api.get(service, scoped(`${path}/${row.id}/stats`)), labels, money) }
}

const DISCOUNT_TYPE = [{ value: 1, label: ['减价', 'Amount off'] }, { value: 2, label: ['打折', 'Percent'] }]
const ORDER_FIGURES = { orders: ['订单', 'Orders'], awaiting_payment: ['待支付', 'Awaiting payment'], paid: ['已支付', 'Paid'],
  cancelled: ['已取消', 'Cancelled'], discount_given: ['已优惠', 'Discount given'],
  discount_awaiting_payment: ['待支付优惠', 'Discount awaiting payment'] }

export const discounts = {
  name: 'discounts', service: 'pricing', path: '/admin-api/pricing/discounts', owned: true,
  filters: [...NAME_STATUS_FILTERS, { prop: 'running', type: 'select', label: ['进行中', 'Running'],
    options: [{ value: true, label: ['是', 'Yes'] }, { value: false, label: ['否', 'No'] }] }],
  columns: [C.id, C.name, C.state,
    termsColumn(['折扣', 'Discount'], (p) => (p.discount_type === 1 ? `-${formatYuan(p.amount_off)}`
      : `${bpToPercent(p.pay_bp)}%`)), C.startAt, C.endAt],
  form: [F.name, F.startAt, F.endAt, F.remark,
    { prop: 'products', type: 'rows', label: ['折扣商品', 'Products'], required: true, columns: [
      { ...F.spu, label: ['SPU', 'SPU'] }, F.sku,
      { prop: 'discount_type', type: 'select', label: ['方式', 'How'], options: DISCOUNT_TYPE, default: 1, required: true },
      { prop: 'amount_off', type: 'money', label: ['减价（元）', 'Off (yuan)'], visible: (r) => r.discount_type === 1 },
      { prop: 'pay_bp', type: 'percent', label: ['支付比例', 'Pays'], visible: (r) => r.discount_type === 2 },
    ] }],
  can: ACTIVITY,
  rowActions: [statsAction('pricing', '/admin-api/pricing/discounts', ORDER_FIGURES, ['discount_given', 'discount_awaiting_payment'])],
}

const CONDITION = [{ value: 10, label: ['满金额', 'Amount spent'] }, { value: 20, label: ['满件数', 'Items bought'] }]

// A level's threshold is yuan when the condition is an amount, a count when it is items.
function levelsOut(body, _editing, model) {
  const errors = {}
  body.levels = body.levels.map((level, i) => {
    const text = String(model.levels[i].threshold ?? '')
    const value = model.condition_type === 10 ? yuanToFen(text) : /^\d{1,9}$/.test(text.trim()) ? Number(text) : NaN
    if (value === null || Number.isNaN(value)) errors[`levels.${i}.threshold`] =
      model.condition_type === 10 ? 'common.invalidMoney' : 'common.invalidIds'
    return { ...level, threshold: value }
  })
  if (Object.keys(errors).length) throw new FormInvalid(errors)
  return body
}

export const rewards = {
  name: 'rewards', service: 'pricing', path: '/admin-api/pricing/rewards', owned: true,
  filters: discounts.filters,
  columns: [C.id, C.name, C.state, C.startAt, C.endAt,
    { prop: 'condition_type', type: 'enum', options: CONDITION, label: ['条件', 'Condition'], width: 90 },
    { prop: 'levels', label: ['档位', 'Levels'], width: 220, value: (r) => r.levels.map((l) => l.description).join('；') }],
  form: [F.name, F.startAt, F.endAt, F.remark,
    { prop: 'condition_type', type: 'radio', label: ['条件', 'Condition'], options: CONDITION, default: 10, required: true },
    { prop: 'product_scope', type: 'radio', label: ['适用商品', 'Products'], options: PRODUCT_SCOPE, default: 1 },
    { prop: 'product_scope_values', type: 'ids', label: ['商品或分类编号', 'Product or category ids'],
      visible: (m) => m.product_scope !== 1 },
    { prop: 'levels', type: 'rows', label: ['优惠档位', 'Levels'], required: true, columns: [
      { prop: 'threshold', type: 'text', label: ['门槛（元或件）', 'From (yuan or items)'], required: true },
      { prop: 'amount_off', type: 'money', label: ['减（元）', 'Off (yuan)'], default: '0.00' },
      { prop: 'free_delivery', type: 'switch', label: ['包邮', 'Free delivery'], default: false },
      { prop: 'points', type: 'number', label: ['送积分', 'Points'], min: 0, default: 0 },
      { prop: 'coupons', type: 'pairs', label: ['送券（模板:张数）', 'Coupons (template:count)'] },
    ] }],
  // thresholds arrive in fen (amount) or items: show yuan for amounts
  fromItem: (model, item) => {
    model.levels.forEach((level, i) => {
      level.threshold = item.condition_type === 10 ? fenToYuan(item.levels[i].threshold) : String(item.levels[i].threshold)
    })
  },
  beforeSave: levelsOut,
  can: ACTIVITY,
  rowActions: [statsAction('pricing', '/admin-api/pricing/rewards', ORDER_FIGURES, ['discount_given', 'discount_awaiting_payment'])],
}

export const seckillSlots = {
  name: 'seckillSlots', service: 'seckill', path: '/admin-api/seckill/slots',
  columns: [C.id, C.name, { prop: 'start_time', label: ['开始', 'Starts'] }, { prop: 'end_time', label: ['结束', 'Ends'] },
    C.status],
  form: [F.name,
    { prop: 'start_time', type: 'time', label: ['开始时间', 'Starts'], required: true },
    { prop: 'end_time', type: 'time', label: ['结束时间', 'Ends'], required: true }, F.status],
  can: { create: (_r, s) => s.role === 'admin', edit: (_r, s) => s.role === 'admin', delete: (_r, s) => s.role === 'admin' },
}

export const seckillActivities = {
  name: 'seckillActivities', service: 'seckill', path: '/admin-api/seckill/activities', owned: true,
  filters: [...NAME_STATUS_FILTERS, { prop: 'spu_id', type: 'number', label: ['SPU', 'SPU'], min: 1 }],
  columns: [C.id, C.name, C.spu, C.state,
    { prop: 'start_date', label: ['开始日期', 'From'], width: 110 }, { prop: 'end_date', label: ['结束日期', 'To'], width: 110 },
    { prop: 'slot_ids', type: 'list', label: ['时段', 'Slots'], width: 80 },
    termsColumn(['秒杀价', 'Flash price'], (p) => formatYuan(p.price)),
    { prop: 'stock', label: ['库存', 'Stock'], width: 100, value: (r) => `${r.stock} / ${r.total_stock}` }],
  form: [F.name, F.spu,
    { prop: 'slot_ids', type: 'ids', label: ['时段编号', 'Slot ids'], required: true, placeholder: ['如 1, 2', 'e.g. 1, 2'] },
    { prop: 'start_date', type: 'date', label: ['开始日期', 'From'], required: true },
    { prop: 'end_date', type: 'date', label: ['结束日期', 'To'], required: true },
    { prop: 'user_limit', type: 'number', label: ['每人限购', 'Per buyer'], min: 0, default: 0, hint: ['0 不限', '0: no limit'] },
    { prop: 'order_limit', type: 'number', label: ['每单限购', 'Per order'], min: 0, default: 0 },
    F.sort, F.remark,
    { prop: 'products', type: 'rows', label: ['秒杀商品', 'Products'], required: true, columns: [
      F.sku, { prop: 'price', type: 'money', label: ['秒杀价（元）', 'Flash price (yuan)'], required: true },
      { prop: 'stock', type: 'number', label: ['库存', 'Stock'], min: 0, required: true }] }],
  can: ACTIVITY,
  rowActions: [statsAction('seckill', '/admin-api/seckill/activities', { reserved: ['预订', 'Reserved'], held: ['占用', 'Held'],
    sold: ['售出', 'Sold'], released: ['释放', 'Released'], expired: ['过期', 'Expired'], orders_paid: ['已付订单', 'Orders paid'],
    sales_amount: ['销售额', 'Sales'], stock: ['剩余库存', 'Stock left'], total_stock: ['总库存', 'Total stock'] }, ['sales_amount'])],
}

export const groupbuy = {
  name: 'groupbuy', service: 'groupbuy', path: '/admin-api/groupbuy/activities', owned: true,
  filters: NAME_STATUS_FILTERS,
  columns: [C.id, C.name, C.spu, C.state,
    termsColumn(['拼团价 / 团长价', 'Group / leader price'], (p) => `${formatYuan(p.group_price)} / ${formatYuan(p.leader_price)}`),
    C.startAt, C.endAt, { prop: 'group_size', label: ['成团人数', 'Group size'], width: 90 },
    { prop: 'joined_count', label: ['参团人次', 'Joined'], width: 80 }],
  form: [F.name, F.spu, F.startAt, F.endAt,
    { prop: 'group_size', type: 'number', label: ['成团人数', 'Group size'], min: 2, max: 100, default: 2, required: true },
    { prop: 'limit_hours', type: 'number', label: ['拼团时限（小时）', 'Time limit (hours)'], min: 1, max: 720, default: 24,
      required: true },
    { prop: 'user_limit', type: 'number', label: ['每人限购', 'Per buyer'], min: 0, default: 0 },
    { prop: 'order_limit', type: 'number', label: ['每单限购', 'Per order'], min: 0, default: 0 },
    { prop: 'virtual_completion', type: 'switch', label: ['虚拟成团', 'Virtual completion'], default: false },
    { prop: 'least_population', type: 'number', label: ['虚拟成团最少真人', 'Least real members'], min: 1, default: 1,
      visible: (m) => m.virtual_completion },
    { prop: 'robot_join_after_hours', type: 'number', label: ['机器人加入（小时后）', 'Robots join after (h)'], min: 0,
      default: 0, visible: (m) => m.virtual_completion },
    { prop: 'keep_open_groups', type: 'number', label: ['保留开团数', 'Open groups kept'], min: 0, max: 50, default: 0 },
    F.sort, F.remark,
    { prop: 'products', type: 'rows', label: ['拼团商品', 'Products'], required: true, columns: [
      F.sku, { prop: 'group_price', type: 'money', label: ['拼团价（元）', 'Group price (yuan)'], required: true },
      { prop: 'leader_price', type: 'money', label: ['团长价（元）', 'Leader price (yuan)'], nullable: true }] }],
  can: ACTIVITY,
  rowActions: [statsAction('groupbuy', '/admin-api/groupbuy/activities', { groups_opened: ['开团', 'Groups opened'],
    groups_in_progress: ['拼团中', 'Open'], groups_succeeded: ['成团', 'Completed'], groups_failed: ['失败', 'Failed'],
    members_paid: ['已付款', 'Paid'], sales_amount: ['销售额', 'Sales'], refunded_amount: ['退款额', 'Refunded'],
    robots: ['机器人', 'Robots'] }, ['sales_amount', 'refunded_amount'])],
}

export const bargain = {
  name: 'bargain', service: 'bargain', path: '/admin-api/bargain/activities', owned: true,
  filters: NAME_STATUS_FILTERS,
  columns: [C.id, C.name, C.spu, C.state, C.startAt, C.endAt,
    { prop: 'first_price', type: 'money', label: ['起始价', 'From'], width: 90 },
    { prop: 'floor_price', type: 'money', label: ['底价', 'Floor'], width: 90 },
    { prop: 'stock', label: ['库存', 'Stock'], width: 90, value: (r) => `${r.stock} / ${r.total_stock}` }],
  form: [F.name, F.spu, F.sku, F.startAt, F.endAt,
    { prop: 'first_price', type: 'money', label: ['起始价（元）', 'Starting price (yuan)'], required: true },
    { prop: 'floor_price', type: 'money', label: ['底价（元）', 'Floor price (yuan)'], required: true },
    { prop: 'stock', type: 'number', label: ['剩余库存', 'Stock left'], min: 0, required: true },
    { prop: 'total_stock', type: 'number', label: ['总库存', 'Units in all'], min: 0, nullable: true,
      hint: ['留空则等于剩余库存；编辑时保留已售出的数量', 'Empty: the stock left; keep it when editing so units sold still count'] },
    { prop: 'help_max_count', type: 'number', label: ['助力人数', 'Helpers needed'], min: 1, default: 5, required: true },
    { prop: 'bargain_count', type: 'number', label: ['每人可发起', 'Bargains per buyer'], min: 1, default: 1, required: true },
    { prop: 'total_limit_count', type: 'number', label: ['每人可购', 'Purchases per buyer'], min: 1, default: 1, required: true },
    { prop: 'random_min_price', type: 'money', label: ['每次最少砍（元）', 'Each help at least (yuan)'], required: true },
    { prop: 'random_max_price', type: 'money', label: ['每次最多砍（元）', 'Each help at most (yuan)'], required: true },
    F.sort, F.remark],
  can: ACTIVITY,
  rowActions: [statsAction('bargain', '/admin-api/bargain/activities', { records_started: ['发起', 'Started'],
    records_in_progress: ['进行中', 'In progress'], records_succeeded: ['成功', 'Succeeded'], records_failed: ['失败', 'Failed'],
    records_ordered: ['已下单', 'Ordered'], helps: ['助力', 'Helps'], sales: ['销量', 'Sales'] }, [])],
}

export const points = {
  name: 'points', service: 'points', path: '/admin-api/points/activities', owned: true,
  filters: NAME_STATUS_FILTERS,
  columns: [C.id, C.name, C.spu, C.state,
    termsColumn(['积分 + 加价', 'Points + cash'], (p) => `${p.points} + ${formatYuan(p.price)}`), C.startAt, C.endAt,
    { prop: 'stock', label: ['库存', 'Stock'], width: 90, value: (r) => `${r.stock} / ${r.total_stock}` }],
  form: [F.name, F.spu, F.startAt, F.endAt, F.sort, F.remark,
    { prop: 'products', type: 'rows', label: ['兑换商品', 'Products'], required: true, columns: [
      F.sku, { prop: 'points', type: 'number', label: ['积分', 'Points'], min: 1, required: true },
      { prop: 'price', type: 'money', label: ['加价（元）', 'Plus cash (yuan)'], default: '0.00', required: true },
      { prop: 'stock', type: 'number', label: ['总库存', 'Units offered'], min: 0, required: true },
      { prop: 'limit_count', type: 'number', label: ['每人限兑', 'Per buyer'], min: 1, default: 1, required: true }] }],
  // the service takes the units offered in all (held and sold included); its `stock` is what is left
  fromItem: (model, item) => { model.products.forEach((p, i) => { p.stock = item.products[i].total_stock }) },
  can: ACTIVITY,
  rowActions: [statsAction('points', '/admin-api/points/activities', { total_stock: ['总库存', 'Total stock'],
    stock: ['剩余', 'Left'], orders_held: ['待支付订单', 'Orders held'], orders_paid: ['已付订单', 'Orders paid'],
    units_sold: ['兑换件数', 'Units sold'], sales: ['现金销售额', 'Cash sales'], points_used: ['消耗积分', 'Points used'] }, ['sales'])],
}

