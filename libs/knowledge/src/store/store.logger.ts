/** The slice of a pino logger the stores use; any pino `Logger` fits. */
export interface StoreLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: StoreLogger = { debug() {}, info() {}, warn() {}, error() {} };
