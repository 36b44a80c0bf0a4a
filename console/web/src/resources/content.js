import { BANNER_POSITION, C, F, STATUS } from './options.js'

const EDIT = { create: true, edit: true, delete: true }

export const articleCategories = {
  name: 'articleCategories', service: 'content', path: '/admin-api/content/article-categories',
  filters: [{ prop: 'name', type: 'text', label: ['名称', 'Name'] },
    { prop: 'status', type: 'select', label: ['启停', 'On/off'], options: STATUS }],
  columns: [C.id, C.name, { prop: 'sort', label: ['排序', 'Sort'], width: 70 }, C.status],
  form: [F.name, { prop: 'pic_url', type: 'text', label: ['图标地址', 'Icon URL'], default: '' }, F.status, F.sort],
  can: EDIT,
}

export const articles = {
  name: 'articles', service: 'content', path: '/admin-api/content/articles',
  filters: [{ prop: 'title', type: 'text', label: ['标题', 'Title'] },
    { prop: 'category_id', type: 'number', label: ['分类编号', 'Category'], min: 1 },
    { prop: 'status', type: 'select', label: ['启停', 'On/off'], options: STATUS }],
  columns: [C.id, { prop: 'title', label: ['标题', 'Title'], width: 200 },
    { prop: 'category_id', label: ['分类', 'Category'], width: 70 },
    { prop: 'recommend_hot', type: 'bool', label: ['热门', 'Hot'], width: 60 }, C.status],
  form: [{ prop: 'title', type: 'text', label: ['标题', 'Title'], required: true },
    { prop: 'category_id', type: 'number', label: ['分类编号', 'Category id'], min: 1, required: true },
    { prop: 'author', type: 'text', label: ['作者', 'Author'], default: '' },
    { prop: 'pic_url', type: 'text', label: ['封面地址', 'Cover URL'], required: true },
    { prop: 'introduction', type: 'text', label: ['简介', 'Introduction'], default: '' },
    { prop: 'content', type: 'textarea', label: ['正文', 'Content'], required: true, rows: 8 },
    { prop: 'spu_id', type: 'number', label: ['关联商品', 'Product (SPU)'], min: 1, nullable: true },
    { prop: 'recommend_hot', type: 'switch', label: ['热门推荐', 'Hot'], default: false },
    { prop: 'recommend_banner', type: 'switch', label: ['轮播推荐', 'On the banner'], default: false },
    F.sort, F.status],
  can: EDIT,
}

export const banners = {
  name: 'banners', service: 'content', path: '/admin-api/content/banners',
  filters: [{ prop: 'title', type: 'text', label: ['标题', 'Title'] },
    { prop: 'position', type: 'select', label: ['位置', 'Position'], options: BANNER_POSITION }],
  columns: [C.id, { prop: 'title', label: ['标题', 'Title'], width: 160 },
    { prop: 'position', type: 'enum', options: BANNER_POSITION, label: ['位置', 'Position'], width: 100 },
    { prop: 'url', label: ['跳转地址', 'Link'], width: 160 }, { prop: 'sort', label: ['排序', 'Sort'], width: 60 }, C.status],
  form: [{ prop: 'title', type: 'text', label: ['标题', 'Title'], required: true },
    { prop: 'pic_url', type: 'text', label: ['图片地址', 'Picture URL'], required: true },
    { prop: 'url', type: 'text', label: ['跳转地址', 'Link'], required: true },
    { prop: 'position', type: 'select', label: ['位置', 'Position'], options: BANNER_POSITION, default: 1, required: true },
    F.sort, F.status, { prop: 'memo', type: 'text', label: ['备注', 'Memo'], default: '' }],
  can: EDIT,
}
