import { type CommandAnswer, type CommandRunner, neutral, statusAnswer } from './neutral.js';

export interface ResetInput {
  /** Hard: at once, whatever runs (1.6 Hard, 2.0.1 Immediate). Otherwise once idle (1.6 Soft, 2.0.1 OnIdle). */
  hard?: boolean;
  /** 2.0.1 only: one EVSE instead of the whole station; 1.6 resets the whole charger. */
  evseId?: number;
}

/** Booting, resetting and availability. */
export function provisioningCommands(runner: CommandRunner) {
  return {
    reset: neutral<ResetInput, CommandAnswer>(runner, 'reset', {
      'ocpp1.6': (i) => ({ action: 'Reset', payload: { type: i.hard ? 'Hard' : 'Soft' }, answer: statusAnswer() }),
      'ocpp2.0.1': (i) => ({
        action: 'Reset', payload: { type: i.hard ? 'Immediate' : 'OnIdle', ...(i.evseId !== undefined ? { evseId: i.evseId } : {}) },
        answer: statusAnswer('Scheduled'),
      }),
    }),
  };
}
