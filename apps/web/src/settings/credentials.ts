// The user's API key and user id, kept in this browser (localStorage) across reloads.

const KEY = 'aip.apiKey';
const USER = 'aip.userId';

export type KeyValueStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export class Credentials {
  constructor(
    private readonly storage: KeyValueStorage,
    private readonly newUserId: () => string = () => `web-${crypto.randomUUID().slice(0, 8)}`,
  ) {}

  get apiKey(): string {
    return this.storage.getItem(KEY) ?? '';
  }

  set apiKey(value: string) {
    if (value) this.storage.setItem(KEY, value);
    else this.storage.removeItem(KEY);
  }

  /** The user this browser speaks for; chosen once, kept across reloads. */
  get userId(): string {
    let user = this.storage.getItem(USER);
    if (!user) {
      user = this.newUserId();
      this.storage.setItem(USER, user);
    }
    return user;
  }

  set userId(value: string) {
    if (value) this.storage.setItem(USER, value);
  }
}
