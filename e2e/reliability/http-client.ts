/** A JSON answer: status, text and parsed body (`{}` when empty or not JSON). */
export interface Answer {
  status: number;
  text: string;
  // Bodies differ per route; tests read the fields they need.
  body: any;
}

/** One JSON request with fetch; a refused or reset connection answers status 0 instead of throwing. */
export async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<Answer> {
  try {
    const res = await fetch(url, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      signal: AbortSignal.timeout(timeoutMs),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = {};
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      // not JSON
    }
    return { status: res.status, text, body: parsed };
  } catch (error) {
    return { status: 0, text: (error as Error).message, body: {} };
  }
}


export interface Song {
  id: string;
  name: string;
  artist: string;
  album: string;
}

/** The fields both sides must agree on, keyed by externalId. */
export function songsOf(items: Array<Record<string, unknown>>, idKey: 'id' | 'externalId'): Map<string, Song> {
  return new Map(items.map((i) => [String(i[idKey]), { id: String(i[idKey]), name: String(i['name']), artist: String(i['artist']), album: String(i['album']) }]));
}
