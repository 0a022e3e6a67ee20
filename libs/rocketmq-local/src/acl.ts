// Users and their rights on a broker with ACL 2.0 on (see `BrokerOptions.auth`), applied over the
// remoting protocol with the admin user's signature: one normal user per service, allowed to
// publish to its topics and consume its topics with its groups, and nothing else.
import { adminBrokers, type AdminOptions } from './admin.ts';
import { RemotingError, RequestCode, ResponseCode, withConnection, type BrokerCredentials } from './remoting.ts';

export interface UserRights {
  readonly credentials: BrokerCredentials;
  /** Topics the user may publish to. */
  readonly publish: readonly string[];
  /** Topics the user may consume, and the consumer groups it may consume with. */
  readonly subscribe: { readonly topics: readonly string[]; readonly groups: readonly string[] };
}

/** Creates or updates each user (password included) and replaces its ACL with exactly `rights`. */
export async function applyAccessControl(users: readonly UserRights[], opts: AdminOptions = {}): Promise<void> {
  for (const broker of await adminBrokers(opts)) {
    await withConnection(broker, async (c) => {
      const check = (what: string, res: { code: number; remark?: string | undefined }) => {
        if (res.code !== ResponseCode.SUCCESS) throw new RemotingError(`${what} on ${broker}: ${res.code} ${res.remark ?? ''}`.trim(), res.code);
      };
      for (const { credentials, publish, subscribe } of users) {
        const username = credentials.accessKey;
        const user = JSON.stringify({ username, password: credentials.secretKey, userType: 'Normal', userStatus: 'Enable' });
        const existing = await c.request(RequestCode.AUTH_GET_USER, { username });
        const exists = existing.code === ResponseCode.SUCCESS && existing.body.length > 0 && existing.body.toString('utf8') !== 'null';
        check(`${exists ? 'update' : 'create'} user ${username}`, await c.request(exists ? RequestCode.AUTH_UPDATE_USER : RequestCode.AUTH_CREATE_USER, { username }, user));

        const subject = `User:${username}`;
        const acl = await c.request(RequestCode.AUTH_GET_ACL, { subject });
        if (acl.code === ResponseCode.SUCCESS && acl.body.length > 0 && acl.body.toString('utf8') !== 'null') {
          check(`delete the ACL of ${username}`, await c.request(RequestCode.AUTH_DELETE_ACL, { subject }));
        }
        const entries = [
          ...[...new Set([...publish, ...subscribe.topics])].map((topic) => ({
            resource: `Topic:${topic}`,
            actions: [...(publish.includes(topic) ? ['Pub'] : []), ...(subscribe.topics.includes(topic) ? ['Sub'] : [])],
            decision: 'Allow',
          })),
          ...subscribe.groups.map((group) => ({ resource: `Group:${group}`, actions: ['Sub'], decision: 'Allow' })),
        ];
        if (entries.length === 0) continue;
        const body = JSON.stringify({ subject, policies: [{ policyType: 'Custom', entries }] });
        check(`create the ACL of ${username}`, await c.request(RequestCode.AUTH_CREATE_ACL, { subject }, body));
      }
    });
  }
}
