// How numbers, money and fuzzy dates read on the page.

export function money(amount, currency) {
  if (amount == null) return "amount not stated";
  const abs = Math.abs(amount);
  const [div, unit] =
    abs >= 1e9 ? [1e9, " bn"] : abs >= 1e6 ? [1e6, " m"] : abs >= 1e3 ? [1, ""] : [1, ""];
  const shown = div === 1 ? amount.toLocaleString("en") : trim(amount / div) + unit;
  return `${currency} ${shown}`;
}

function trim(n) {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1).replace(/\.0$/, "") : n.toFixed(2).replace(/\.?0+$/, "");
}

export function fuzzy(date) {
  if (!date) return null;
  const words = date.text && date.text !== date.value ? ` ("${date.text}")` : "";
  return `${date.value}${words}${date.estimated ? ", estimated" : ""}`;
}

export function when(iso) {
  if (!iso) return "";
  return iso.replace("T", " ").replace(/\.\d+Z?$/, "").replace(/Z$/, "") + " UTC";
}

export function plural(n, one, many = `${one}s`) {
  return `${n.toLocaleString("en")} ${n === 1 ? one : many}`;
}
