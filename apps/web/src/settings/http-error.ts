/** A refused HTTP request, with the status the caller decides on (401/403: the key; 404: gone). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** The readable message of an error response (OpenAI shape or ours), else the status line. */
export async function errorMessage(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { error?: { message?: string }; message?: string } | null;
    return body?.error?.message ?? body?.message ?? `${response.status} ${response.statusText}`;
  } catch {
    return `${response.status} ${response.statusText}`;
  }
}

export async function httpError(response: Response): Promise<HttpError> {
  return new HttpError(response.status, await errorMessage(response));
}

/** The HTTP status carried by an error, if any. */
export const statusOf = (error: unknown): number | undefined => (error instanceof HttpError ? error.status : undefined);

export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
