// The reactive side of push.ts for a button or switch: its state, a busy flag and the last error in words.
import { disablePush, enablePush, pushState, watchPush, type PushState } from './push.ts';
import { errorMessage } from './api.ts';
import { session } from './session.svelte.ts';

const CHANGED = 'chargekeeper:push-changed';

export class PushToggle {
  /** null until checked. */
  state = $state<PushState | null>(null);
  busy = $state(false);
  error = $state('');

  /** Call from onMount; returns the clean-up. */
  mount(): () => void {
    void this.refresh();
    const stop = watchPush(() => session.user?.username ?? null);
    // The bell and the drivers' switch can be on one page: a change by one shows in the other.
    const onChange = () => void this.refresh();
    addEventListener(CHANGED, onChange);
    return () => {
      stop();
      removeEventListener(CHANGED, onChange);
    };
  }

  async refresh(): Promise<void> {
    const who = session.user?.username;
    if (!who) return;
    this.state = await pushState(who).catch((): PushState => 'off');
  }

  toggle = async (): Promise<void> => {
    const who = session.user?.username;
    if (!who || this.busy || this.state === 'unsupported') return;
    this.busy = true;
    this.error = '';
    try {
      if (this.state === 'on') await disablePush();
      else await enablePush(who);
    } catch (e) {
      this.error = errorMessage(e);
    } finally {
      await this.refresh();
      this.busy = false;
      dispatchEvent(new Event(CHANGED));
    }
  };
}
