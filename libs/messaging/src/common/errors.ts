export type PublishErrorCode = 'BROKER_UNAVAILABLE' | 'TIMEOUT' | 'THROTTLED' | 'INVALID_EVENT' | 'REJECTED' | 'CLOSED';

/** A publish that did not reach the broker. Callers can map `code` to a client-facing status. */
export class PublishError extends Error {
  override readonly name = 'PublishError';
  constructor(
    readonly code: PublishErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** True when retrying later may succeed (broker down, slow or throttling), false for a bad event. */
  get retryable(): boolean {
    return this.code === 'BROKER_UNAVAILABLE' || this.code === 'TIMEOUT' || this.code === 'THROTTLED';
  }
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(onTimeout()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null) {
    // Nest's RPC exception filter turns handler errors into plain objects ({ status, message }).
    const { message } = error as { message?: unknown };
    return typeof message === 'string' ? message : JSON.stringify(error);
  }
  return String(error);
}
