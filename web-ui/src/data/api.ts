// The one HTTP client of the console: JSON in and out, the session's CSRF token on every change, API errors typed.

/** An error as the API returns it ({error: {code, message, field}}). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

let csrfToken = '';
const unauthorizedListeners = new Set<() => void>();

export function setCsrfToken(token: string | null): void {
  csrfToken = token ?? '';
}

/** Called when a request answers 401 (the session ended): the app shows the login page. */
export function onUnauthorized(listener: () => void): void {
  unauthorizedListeners.add(listener);
}

async function errorOf(res: Response): Promise<ApiError> {
  try {
    const body = (await res.json()) as { error?: { code: string; message: string; field?: string } };
    if (body.error) return new ApiError(res.status, body.error.code, body.error.message, body.error.field);
  } catch {
    /* not JSON */
  }
  return new ApiError(res.status, 'http.error', `${res.status} ${res.statusText}`);
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(`/api${path}`, { method, headers, credentials: 'same-origin', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  } catch {
    throw new ApiError(0, 'network', 'the appliance does not answer; check the network');
  }
  if (res.status === 401 && path !== '/session') for (const l of unauthorizedListeners) l();
  if (!res.ok) throw await errorOf(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export const get = <T>(path: string): Promise<T> => request<T>('GET', path);

/** A query string from defined values. */
export function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** Sends a body with upload progress (fetch has none): sounds, backups. */
export function upload<T>(path: string, body: Blob | FormData, contentType: string | undefined, onProgress: (fraction: number) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api${path}`);
    xhr.setRequestHeader('x-csrf-token', csrfToken);
    if (contentType) xhr.setRequestHeader('content-type', contentType);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onerror = () => reject(new ApiError(0, 'network', 'the upload was interrupted'));
    xhr.onload = () => {
      onProgress(1);
      let json: { error?: { code: string; message: string; field?: string } } = {};
      try {
        json = xhr.responseText ? (JSON.parse(xhr.responseText) as typeof json) : {};
      } catch {
        /* not JSON */
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(json as T);
      else reject(new ApiError(xhr.status, json.error?.code ?? 'http.error', json.error?.message ?? `${xhr.status}`, json.error?.field));
    };
    xhr.send(body);
  });
}
