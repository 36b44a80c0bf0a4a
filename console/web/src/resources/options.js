// Choices shared by several pages, with their labels in both languages.
export const STATUS = [{ value: 0, label: ['启用', 'Enabled'] }, { value: 1, label: ['停用', 'Disabled'] }]
export const PRODUCT_SCOPE = [
  { value: 1, label: ['全部商品', 'All products'] },
  { value: 2, label: ['指定商品', 'Listed products (SPU)'] },
  { value: 3, label: ['指定分类', 'Listed categories'] },
]
export const REVIEW_STATUS = [
  { value: 1, label: ['待审核', 'Pending'] }, { value: 2, label: ['已通过', 'Approved'] },
  { value: 3, label: ['已驳回', 'Rejected'] },
]
export const REVIEW_OUTCOME = [...REVIEW_STATUS, { value: 4, label: ['已被新提交替代', 'Superseded'] }]
export const REVIEW_KIND = [{ value: 1, label: ['门店', 'Store'] }, { value: 2, label: ['核销券商品', 'Voucher product'] }]
export const VOUCHER_KIND = [{ value: 1, label: ['储值券', 'Stored value'] }, { value: 2, label: ['次卡', 'Uses'] }]
export const RECORD_KIND = [{ value: 1, label: ['核销', 'Verification'] }, { value: 2, label: ['冲正', 'Reversal'] }]
export const BANNER_POSITION = [
  { value: 1, label: ['首页', 'Home'] }, { value: 2, label: ['秒杀页', 'Flash sales'] },
  { value: 3, label: ['拼团页', 'Group buys'] }, { value: 4, label: ['限时折扣页', 'Discounts'] },
  { value: 5, label: ['满减送页', 'Spend and save'] },
]

// Fields many forms share
export const F = {
  name: { prop: 'name', type: 'text', label: ['名称', 'Name'], required: true },
  spu: { prop: 'spu_id', type: 'number', label: ['商品 SPU', 'Product (SPU)'], required: true, min: 1 },
  sku: { prop: 'sku_id', type: 'number', label: ['SKU', 'SKU'], required: true, min: 1 },
  startAt: { prop: 'start_at', type: 'datetime', label: ['开始时间', 'Starts'], required: true },
  endAt: { prop: 'end_at', type: 'datetime', label: ['结束时间', 'Ends'], required: true },
  sort: { prop: 'sort', type: 'number', label: ['排序', 'Sort'], min: 0, default: 0 },
  remark: { prop: 'remark', type: 'textarea', label: ['备注', 'Remark'], default: '' },
  status: { prop: 'status', type: 'radio', label: ['状态', 'Status'], options: STATUS, default: 0 },
}

// Columns many lists share
export const C = {
  id: { prop: 'id', label: ['编号', 'ID'], width: 70 },
  name: { prop: 'name', label: ['名称', 'Name'], width: 160 },
  spu: { prop: 'spu_id', label: ['SPU', 'SPU'], width: 80 },
  state: { prop: 'state', type: 'state', label: ['状态', 'State'], width: 100 },
  startAt: { prop: 'start_at', type: 'time', label: ['开始', 'Starts'], width: 150 },
  endAt: { prop: 'end_at', type: 'time', label: ['结束', 'Ends'], width: 150 },
  status: { prop: 'status', type: 'status', label: ['状态', 'Status'], width: 90 },
}

// Lists filtered by name and on/off
export const NAME_STATUS_FILTERS = [
  { prop: 'name', type: 'text', label: ['名称', 'Name'] },
  { prop: 'status', type: 'select', label: ['启停', 'On/off'], options: STATUS },
]
