// The reactive side of push.ts for a button or switch: its state, a busy flag and the last error in words.
import { disablePush, enablePush, pushState, watchPush, type PushState } from './push.ts';
import { session } from './session.svelte.ts';

export class PushToggle {
  /** null until checked. */
  state = $state<PushState | null>(null);
  busy = $state(false);
  error = $state('');

  /** Call from onMount; returns the clean-up. */
  mount(): () => void {
    void this.refresh();
    return watchPush(() => session.user?.username ?? null);
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
      this.error = e instanceof Error ? e.message : String(e);
    } finally {
      await this.refresh();
      this.busy = false;
    }
  };
}
