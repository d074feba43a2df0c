// The /v1 API with the user's key, and the error envelope as readable text.

const KEY = "voc.apiKey";

export class ApiError extends Error {
  constructor(status, body) {
    const err = (body && body.error) || {};
    super(err.message || `HTTP ${status}`);
    this.status = status;
    this.code = err.code || "error";
    this.details = err.details;
  }

  // "403 forbidden: the researcher role may not do this …" plus per-field problems.
  describe() {
    let text = `${this.status} ${this.code}: ${this.message}`;
    if (Array.isArray(this.details)) {
      text += "\n" + this.details.map((d) => `· ${d.field || ""} ${d.message || ""}`.trim()).join("\n");
    }
    return text;
  }
}

export const getKey = () => localStorage.getItem(KEY) || "";
export const setKey = (key) => localStorage.setItem(KEY, key);
export const clearKey = () => localStorage.removeItem(KEY);

// Query string from an object; arrays repeat (source=a&source=b), empty values are left out.
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    for (const item of Array.isArray(v) ? v : [v]) {
      if (item !== undefined && item !== null && item !== "") u.append(k, String(item));
    }
  }
  const s = u.toString();
  return s ? `?${s}` : "";
}

export async function api(path, { method = "GET", params, body, key } = {}) {
  const headers = { Authorization: `Bearer ${key || getKey()}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(`/v1${path}${params ? qs(params) : ""}`, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (exc) {
    throw new ApiError(0, { error: { code: "network", message: `服务器无法连接 / server unreachable (${exc.message})` } });
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// A file from the API saved by the browser (a plain link cannot send the key).
export async function download(path, params, filename) {
  const response = await fetch(`/v1${path}${qs(params)}`, { headers: { Authorization: `Bearer ${getKey()}` } });
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement("a"), { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// Every page of a search, following the cursor (for tagging all hits with an exact undo).
export async function allHits(filters, limit = 10000) {
  const hits = [];
  let cursor = null;
  do {
    const page = await api("/search", {
      params: { ...filters, sort: "newest", limit: 200, facets: "none", highlight: false, cursor },
    });
    hits.push(...page.hits);
    cursor = page.next_cursor;
    if (hits.length > limit) return null;
  } while (cursor);
  return hits;
}
