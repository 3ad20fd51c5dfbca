/**
 * The rotator Lambda's entry module: esbuild bundles it into dist/lambda-bundle/index.mjs, which
 * TokenRotator deploys (handler settings `index.handler` and `index.requests`). Not a package
 * export: deploy the bundle, not the sources.
 */
import { createHandler } from './handler';

export type { RotatorConfig } from '../core/rotator-environment';
export { rotatorConfigFromEnv } from '../core/rotator-environment';
export type { Deferred, RefreshEvent, RefreshResult } from '../core/rotator-protocol';
export type { PublishOutcome, RefreshEventDetail, RefreshEventType, RefreshOutcomeEvent } from './events';
export { EVENT_SOURCE, publishRefreshEvents, refreshEvents } from './events';
export type {
  HandlerDeps,
  HandlerOptions,
  InvocationContext,
  RotatorEvent,
  SweepSummaryView,
  TargetedResult,
} from './handler';
export { createHandler } from './handler';
export type { DueReason, DueVerdict, PlanListing, SweepPlan } from './plan';
export { dueVerdict, planSweep } from './plan';

/** The rotator's entry point (handler setting `index.handler`): the schedule, its batches, operators. */
export const handler = createHandler();

/** The request entry point (handler setting `index.requests`): what workloads may invoke. */
export const requests = createHandler({}, { entry: 'requests' });
