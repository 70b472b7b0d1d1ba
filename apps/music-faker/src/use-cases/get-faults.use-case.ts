import type { FakerState, FaultPlan } from '../faker-state';

/** `GET /_faults` (test-only): the namespace's fault plan, null when none is set. */
export class GetFaultsUseCase {
  execute(command: { state: FakerState }): FaultPlan | null {
    return command.state.faults;
  }
}
