// How values read on screen: money, dates, ages, phone numbers.

/** Cents → "$86" / "$86.50". */
export function money(cents) {
  if (cents === null || cents === undefined) return '—';
  const dollars = Number(cents) / 100;
  const whole = Number.isInteger(dollars);
  return dollars.toLocaleString('en-US', {
    style: 'currency',
    currency: 'USD',
    minimumFractionDigits: whole ? 0 : 2,
    maximumFractionDigits: 2,
  });
}

/** Cents → "$2.4k" for tiles. */
export function moneyShort(cents) {
  if (cents === null || cents === undefined) return '—';
  const dollars = Number(cents) / 100;
  if (Math.abs(dollars) >= 1_000_000) return '$' + trim1(dollars / 1_000_000) + 'M';
  if (Math.abs(dollars) >= 1000) return '$' + trim1(dollars / 1000) + 'k';
  return '$' + Math.round(dollars).toLocaleString('en-US');
}

function trim1(n) {
  return (Math.round(n * 10) / 10).toString();
}

export function count(n) {
  if (n === null || n === undefined) return '—';
  return Number(n).toLocaleString('en-US');
}

/** The store's IANA time zone: times are shown as the store's clock reads them, wherever the screen is. */
let zone;
export function setTimeZone(tz) {
  zone = tz || undefined;
}

/** RFC 3339 instant → "Mar 4, 2026, 2:15 PM" in the store's zone. */
export function dateTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString('en-US', { month: 'short', day: 'numeric', year: 'numeric', hour: 'numeric', minute: '2-digit', timeZone: zone });
}

export function time(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleTimeString('en-US', { hour: 'numeric', minute: '2-digit', timeZone: zone });
}

/** 'YYYY-MM-DD' → "Mar 4, 1998" (no time zone shift: it is a calendar date). */
export function date(ymd) {
  if (!ymd) return '—';
  const [y, m, d] = String(ymd).split('-').map(Number);
  if (!y || !m || !d) return ymd;
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString('en-US', { month: 'short', day: 'numeric', year: 'numeric', timeZone: 'UTC' });
}

/** "2 days ago", "just now", "in 3 days". */
export function relative(iso, now = Date.now()) {
  if (!iso) return '—';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return iso;
  const seconds = Math.round((t - now) / 1000);
  const abs = Math.abs(seconds);
  const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
  if (abs < 45) return 'just now';
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), 'hour');
  if (abs < 86400 * 30) return rtf.format(Math.round(seconds / 86400), 'day');
  if (abs < 86400 * 365) return rtf.format(Math.round(seconds / (86400 * 30)), 'month');
  return rtf.format(Math.round(seconds / (86400 * 365)), 'year');
}

/** Minutes waited since `iso`, as "4 min" / "1 h 5 min". */
export function waited(iso, now = Date.now()) {
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return '';
  const minutes = Math.max(0, Math.floor((now - t) / 60000));
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** E.164 → "(555) 123-4567" for North American numbers, otherwise as stored. */
export function phone(e164) {
  if (!e164) return '';
  const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164);
  return m ? `(${m[1]}) ${m[2]}-${m[3]}` : e164;
}

const TYPES = { adult_use: 'Adult use', medical: 'Medical', caregiver: 'Caregiver' };
export function customerType(t) {
  return TYPES[t] || t || '—';
}

const ID_KINDS = {
  drivers_license: "Driver's licence",
  state_id: 'State ID',
  passport: 'Passport',
  military_id: 'Military ID',
  tribal_id: 'Tribal ID',
  other: 'Other ID',
};
export function idKind(k) {
  return ID_KINDS[k] || k || 'ID';
}

export function fullName(c) {
  return [c.first_name, c.middle_name, c.last_name].filter(Boolean).join(' ');
}

export function initials(c) {
  const first = (c.preferred_name || c.first_name || '?').trim()[0] || '?';
  const last = (c.last_name || '').trim()[0] || '';
  return (first + last).toUpperCase();
}

/** Milligrams → "3.5 g" / "28 g"; ounces above 1 oz are still shown in grams, the unit the law counts. */
export function weight(mg) {
  if (mg === null || mg === undefined) return '—';
  const g = Number(mg) / 1000;
  return `${Number.isInteger(g) ? g : g.toFixed(g < 10 ? 2 : 1)} g`;
}

const CATEGORIES = {
  flower: 'flower',
  pre_roll: 'pre-rolls',
  infused_pre_roll: 'infused pre-rolls',
  concentrate: 'concentrates',
  vape: 'vapes',
  edible: 'edibles',
  beverage: 'beverages',
  tincture: 'tinctures',
  capsule: 'capsules',
  topical: 'topicals',
  immature_plant: 'clones',
  seed: 'seeds',
  other: 'other products',
};
/** A limits category name → the words staff use ("pre_roll" → "pre-rolls"). */
export function category(name) {
  return CATEGORIES[name] || String(name || '').replace(/_/g, ' ');
}

/** "Flower" for headings. */
export function categoryTitle(name) {
  const c = category(name);
  return c.charAt(0).toUpperCase() + c.slice(1);
}

/** A group discount in words: "20% off flower & pre-rolls, Mar 1–31, 2026". */
export function discountSummary(d) {
  let what;
  if (d.type === 'percent') what = `${d.basis_points / 100}% off`;
  else if (d.type === 'amount') what = `${money(d.cents)} off`;
  else what = d.label || 'Discount';
  const cats = d.categories && d.categories.length ? d.categories.map(category) : null;
  const scope = cats ? (cats.length > 1 ? `${cats.slice(0, -1).join(', ')} & ${cats[cats.length - 1]}` : cats[0]) : 'everything';
  const dates = d.starts_on || d.ends_on
    ? ` (${d.starts_on ? 'from ' + date(d.starts_on) : ''}${d.starts_on && d.ends_on ? ' ' : ''}${d.ends_on ? 'until ' + date(d.ends_on) : ''})`
    : '';
  return `${what} ${scope}${dates}`;
}

const STATUS = {
  received: 'Received',
  ready_for_pickup: 'Ready for pickup',
  out_for_delivery: 'Out for delivery',
  completed: 'Completed',
  cancelled: 'Cancelled',
  voided: 'Voided',
  returned: 'Returned',
  partially_returned: 'Partly returned',
};
/** An order status in staff words. */
export function orderStatus(s) {
  return STATUS[s] || String(s || '').replace(/_/g, ' ');
}

const CHANNELS = { in_store: 'In store', pickup: 'Pickup', delivery: 'Delivery' };
export function channel(c) {
  return CHANNELS[c] || String(c || '').replace(/_/g, ' ');
}

/** Payment methods the API accepts, in the words on the till. */
export const PAYMENT_METHODS = [['cash', 'Cash'], ['debit', 'Debit'], ['credit', 'Credit'], ['gift_card', 'Gift card'], ['store_credit', 'Store credit'], ['other', 'Other']];
export function paymentMethod(m) {
  const found = PAYMENT_METHODS.find(([v]) => v === m);
  return found ? found[1] : String(m || '').replace(/_/g, ' ');
}

/** A product's or line's per-unit measures: "3.5 g", "100 mg THC". */
export function measures(p) {
  const parts = [];
  if (p.net_weight_g) parts.push(`${p.net_weight_g} g`);
  if (p.concentrate_g && p.concentrate_g !== p.net_weight_g) parts.push(`${p.concentrate_g} g concentrate`);
  if (p.thc_mg) parts.push(`${p.thc_mg} mg THC`);
  if (p.volume_ml) parts.push(`${p.volume_ml} mL`);
  return parts.join(', ') || 'no measures';
}
