// Every Web API call this app makes goes through one fetch: this one tells an observer (metrics)
// the method and how it ended, without touching the call. Slack answers most errors with HTTP 200
// and `ok: false`, so the body is read from a clone; the client reads the original.
import type { webApi } from '@slack/bolt';

export type SlackCallOutcome = 'ok' | 'error' | 'rate_limited' | 'unreachable';

export interface SlackApiCall {
  /** The Web API method, e.g. chat.postMessage. */
  method: string;
  outcome: SlackCallOutcome;
  /** Slack's error code (invalid_auth, channel_not_found...) or the HTTP status, when not ok. */
  error?: string;
}

export interface SlackApiObserver {
  apiCall(call: SlackApiCall): void;
}

/** A fetch for WebClientOptions.fetch that reports each call to `observer`. */
export function observedFetch(
  observer: SlackApiObserver,
  fetchFn: typeof globalThis.fetch = globalThis.fetch,
): webApi.FetchFunction {
  return async (url, init) => {
    const method = methodOf(url);
    let res: Response;
    try {
      res = await fetchFn(url, init as RequestInit);
    } catch (err) {
      report(observer, { method, outcome: 'unreachable' });
      throw err;
    }
    if (res.status === 429) report(observer, { method, outcome: 'rate_limited' });
    else if (res.status !== 200) report(observer, { method, outcome: 'error', error: `http_${res.status}` });
    else {
      const body = (await res
        .clone()
        .json()
        .catch(() => undefined)) as { ok?: unknown; error?: unknown } | undefined;
      if (body?.ok === true) report(observer, { method, outcome: 'ok' });
      else report(observer, { method, outcome: 'error', error: String(body?.error ?? 'unreadable_reply') });
    }
    return res;
  };
}

function methodOf(url: string | URL): string {
  const path = typeof url === 'string' ? new URL(url).pathname : url.pathname;
  return path.slice(path.lastIndexOf('/') + 1) || 'unknown';
}

function report(observer: SlackApiObserver, call: SlackApiCall): void {
  try {
    observer.apiCall(call);
  } catch {
    // Counting must never break a call.
  }
}
