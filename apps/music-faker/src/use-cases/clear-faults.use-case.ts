import type { FakerState } from '../faker-state';

/** `DELETE /_faults` (test-only): the namespace answers normally again. */
export class ClearFaultsUseCase {
  execute(command: { state: FakerState }): void {
    command.state.clearFaults();
  }
}
