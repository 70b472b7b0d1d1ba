import type { FakerState, FaultPlan, FaultTarget } from '../faker-state';

/** What `PUT /_faults` asks for (test-only). */
export interface FaultsInput {
  /** How many matching calls to affect; omitted = every call until DELETE /_faults. */
  failNext?: number;
  status?: number;
  delayMs?: number;
  retryAfterSeconds?: number;
  target: FaultTarget;
}

export interface SetFaultsCommand {
  /** The request's namespace. */
  state: FakerState;
  faults: FaultsInput;
}

/** `PUT /_faults` (test-only): the namespace's fault plan, replacing any other; answers the plan. */
export class SetFaultsUseCase {
  execute(command: SetFaultsCommand): FaultPlan {
    const plan = toFaultPlan(command.faults);
    command.state.setFaults(plan);
    return plan;
  }
}

/** A delay alone (no status) only slows calls down; a status alone fails them at once. */
function toFaultPlan(input: FaultsInput): FaultPlan {
  const delayOnly = input.status === undefined && input.delayMs !== undefined;
  return {
    target: input.target,
    remaining: input.failNext ?? null,
    status: delayOnly ? null : (input.status ?? 500),
    delayMs: input.delayMs ?? 0,
    retryAfterSeconds: input.retryAfterSeconds ?? null,
  };
}
