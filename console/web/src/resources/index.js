// Every list page of the console, by its menu key.
import { couponTemplates } from './coupon.js'
import { bargain, discounts, groupbuy, points, rewards, seckillActivities, seckillSlots } from './activities.js'
import { voucherProducts, voucherReport, voucherReviews, voucherStores, voucherVerifications } from './voucher.js'
import { articleCategories, articles, banners } from './content.js'

export const resources = { couponTemplates, discounts, rewards, seckillSlots, seckillActivities, groupbuy, bargain, points,
  voucherReviews, voucherStores, voucherProducts, voucherVerifications, voucherReport, articleCategories, articles, banners }

const BOTH = ['admin', 'merchant']
// The menu: groups of pages, each with the roles that see it (the APIs behind it allow no one else).
export const MENU = [
  { key: 'dashboard', roles: BOTH },
  { key: 'coupon', children: [{ key: 'couponTemplates', roles: BOTH }] },
  { key: 'pricing', children: [{ key: 'discounts', roles: BOTH }, { key: 'rewards', roles: BOTH },
    { key: 'simulator', roles: BOTH }] },
  { key: 'seckill', children: [{ key: 'seckillSlots', roles: BOTH }, { key: 'seckillActivities', roles: BOTH }] },
  { key: 'groupbuy', roles: BOTH },
  { key: 'bargain', roles: BOTH },
  { key: 'points', roles: BOTH },
  { key: 'voucher', children: [{ key: 'voucherReviews', roles: ['admin'] }, { key: 'voucherStores', roles: BOTH },
    { key: 'voucherProducts', roles: BOTH }, { key: 'voucherVerify', roles: ['merchant'] },
    { key: 'voucherVerifications', roles: BOTH }, { key: 'voucherReport', roles: BOTH }] },
  { key: 'content', children: [{ key: 'articleCategories', roles: ['admin'] }, { key: 'articles', roles: ['admin'] },
    { key: 'banners', roles: ['admin'] }] },
]
