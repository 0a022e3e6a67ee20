import { useEffect, useRef } from 'preact/hooks';

export interface KeyDialogRequest {
  /** Why the dialog opened by itself (the key was refused), shown above the buttons. */
  problem?: string;
  apiKey: string;
  userId: string;
}

/**
 * The API key and user id. A native modal <dialog>: the form's method="dialog" closes it on
 * submit. A new `request` object (re)opens it with the current values.
 */
export function KeyDialog({ request, onSave, onForget }: { request: KeyDialogRequest | undefined; onSave: (apiKey: string, userId: string) => void; onForget: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const key = useRef<HTMLInputElement>(null);
  const user = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (!request || !dialog.current || !key.current || !user.current) return;
    key.current.value = request.apiKey;
    user.current.value = request.userId;
    if (!dialog.current.open) dialog.current.showModal();
  }, [request]);

  const submit = () => {
    const apiKey = key.current?.value.trim() ?? '';
    if (apiKey) onSave(apiKey, user.current?.value.trim() ?? '');
  };
  const forget = () => {
    if (key.current) key.current.value = '';
    onForget();
  };

  return (
    <dialog id="key-dialog" ref={dialog}>
      <form method="dialog" id="key-form" onSubmit={submit}>
        <h2>Your API key</h2>
        <p class="note">
          The key stays in this browser (localStorage). It is sent only to the access service to get a short-lived token for the realtime connection, and to the knowledge service for uploads. On a
          local platform started with <code>npm start</code> the key is in <code>.runtime/dev-api-key</code>.
        </p>
        <label for="key-input">API key</label>
        <input id="key-input" name="key" type="password" autocomplete="off" placeholder="sk-aip-…" required ref={key} />
        <label for="user-input">
          User id <span class="note">(whom suggestions are for; the key may act for any user of its tenant)</span>
        </label>
        <input id="user-input" name="user" autocomplete="username" maxLength={128} required ref={user} />
        <p id="key-error" class="error" hidden={!request?.problem}>
          {request?.problem ?? ''}
        </p>
        <menu role="group">
          <button type="button" id="key-forget" class="quiet" onClick={forget}>
            Forget key
          </button>
          <button type="submit" value="save">
            Connect
          </button>
        </menu>
      </form>
    </dialog>
  );
}
