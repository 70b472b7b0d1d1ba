/** The poll run's outcome, where e2e/convergence imports it from; the run itself is polling/poll-run.ts. */
export type { PollRunOutcome } from './polling/poll-run';
