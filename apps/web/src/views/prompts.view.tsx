import type { PushFrame } from '@aip/contracts';
import { useState } from 'preact/hooks';
import { pushLabel } from '../chat/conversation.store.ts';
import type { Speaker } from '../speech/speaker.ts';

/** Proactive prompts and notices, newest first, with the switch that reads them aloud. */
export function PromptsPanel({ pushes, speaker, onAccept }: { pushes: readonly PushFrame[]; speaker: Speaker; onAccept: (push: PushFrame) => void }) {
  const [speaking, setSpeaking] = useState(speaker.enabled);
  const toggle = (event: Event) => {
    const on = (event.currentTarget as HTMLInputElement).checked;
    speaker.enabled = on;
    setSpeaking(on);
  };
  return (
    <section aria-labelledby="prompts-title" class="panel">
      <h2 id="prompts-title">Suggestions for you</h2>
      <label class="toggle">
        <input type="checkbox" id="speak-toggle" checked={speaking} disabled={!speaker.available} onChange={toggle} /> Read suggestions aloud
      </label>
      <p id="speak-note" class="note" hidden={speaker.available}>
        This browser cannot read aloud (no speech synthesis).
      </p>
      <ol id="prompts" class="prompts" aria-live="polite">
        {pushes.map((push) => (
          <Prompt key={push.id} push={push} onAccept={onAccept} />
        ))}
      </ol>
      <p id="prompts-empty" class="note" hidden={pushes.length > 0}>
        Suggestions appear here as they arrive, even while you are away.
      </p>
    </section>
  );
}

function Prompt({ push, onAccept }: { push: PushFrame; onAccept: (push: PushFrame) => void }) {
  const time = new Date(push.time);
  return (
    <li class={`prompt ${push.kind}`} data-push-id={push.id} data-intent={push.intent ?? ''} data-seq={String(push.seq)}>
      <span class="intent">{pushLabel(push)}</span>
      <time dateTime={time.toISOString()}>{time.toLocaleTimeString()}</time>
      <p>{push.text}</p>
      {push.link && (
        <a href={push.link} target="_blank" rel="noopener">
          open
        </a>
      )}
      {push.kind === 'proactive' && (
        <button type="button" class="quiet" onClick={() => onAccept(push)}>
          Yes, please
        </button>
      )}
    </li>
  );
}
