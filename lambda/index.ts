/**
 * `token-rotator/lambda`: the rotator's handler. Deploy the esbuild bundle of this module
 * (`npm run build`), not the sources.
 *
 * @example
 * ```ts
 * // Lambda handler setting: index.handler
 * export { handler } from 'token-rotator/lambda';
 * ```
 */
import { createHandler } from './handler';

export type { RotatorConfig } from '../core/rotator-environment';
export { rotatorConfigFromEnv } from '../core/rotator-environment';
export type { Deferred, IssueEvent, IssueResult, RefreshEvent, RefreshResult } from '../core/rotator-protocol';
export type { PublishOutcome, RefreshEventDetail, RefreshEventType, RefreshOutcomeEvent } from './events';
export { EVENT_SOURCE, publishRefreshEvents, refreshEvents } from './events';
export type { HandlerDeps, InvocationContext, RotatorEvent, SweepSummaryView, TargetedResult } from './handler';
export { createHandler } from './handler';
export type { DueReason, DueVerdict, PlanListing, SweepPlan } from './plan';
export { dueVerdict, planSweep } from './plan';

/** The Lambda entry point (handler setting `index.handler`). */
export const handler = createHandler();
