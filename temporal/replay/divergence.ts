/**
 * Reads the SDK's nondeterminism report (a DeterminismViolationError whose message wraps Core's
 * "[TMPRL1100] Nondeterminism error: ...") into the first divergence: the event, what the history
 * recorded there, what today's code did instead, and the step it happened in.
 */
import { eventIdOf, eventTypeName } from './history';
import type { HistoryIndex } from './step-events';

export interface Divergence {
  /** The history event where replay parted from the history; null when Core did not say which. */
  eventId: number | null;
  /** Its type as the Web UI shows it, e.g. ActivityTaskScheduled. */
  eventType: string | null;
  /** What the history recorded there, in words. */
  recorded: string;
  /** What today's code did there instead, in words. */
  code: string;
  /**
   * The step the divergence is in: the one the recorded event belongs to or, for an event that
   * names none (e.g. a timer a code change added), the next step the history names.
   */
  stepPath: string | null;
  /** Core's own message, for a bug report. */
  detail: string;
}

/** Core's state machines, by the name its messages use, and what issuing their command means. */
const MACHINE_COMMANDS: Record<string, string> = {
  Timer: 'started a timer',
  Activity: 'scheduled an activity',
  'Local activity': 'ran a local activity',
  'Child workflow': 'started a child run',
  'Complete workflow': 'completed the run',
  'Fail workflow': 'failed the run',
  'Continue as new workflow': 'continued as new',
  'Cancel workflow': 'closed the run as cancelled',
  'Signal external WF': 'signalled another run',
  'Cancel external WF': 'asked another run to cancel',
  Update: 'handled an update',
  'Nexus operation': 'started a Nexus operation',
};

/** The Core message inside the SDK's wrapper ("... Failure { message: \"[TMPRL1100] ...\", source ..."). */
export function coreMessage(errorMessage: string): string {
  const start = errorMessage.indexOf('Nondeterminism error: ');
  if (start < 0) return errorMessage;
  const rest = errorMessage.slice(start + 'Nondeterminism error: '.length);
  const end = rest.search(/\\?", source:/);
  return (end < 0 ? rest : rest.slice(0, end)).replace(/\\"/g, '"').trim();
}

function at(index: HistoryIndex, eventId: number | null, recorded: string, code: string, detail: string): Divergence {
  const event = eventId === null ? undefined : index.event(eventId);
  return {
    eventId: event ? eventId : null,
    eventType: event ? eventTypeName(event) : null,
    recorded: event ? index.describe(event) : recorded,
    code,
    stepPath: (eventId === null ? undefined : index.stepNear(eventId)) ?? null,
    detail,
  };
}

/** The one event scheduling `what` (e.g. an activity type), or null when none or several do. */
function onlyEvent(index: HistoryIndex, match: (e: (typeof index.events)[number]) => boolean): number | null {
  const found = index.events.filter(match);
  return found.length === 1 ? eventIdOf(found[0]!) : null;
}

/** The first divergence a DeterminismViolationError's message describes, against `index`. */
export function parseDivergence(errorMessage: string, index: HistoryIndex): Divergence {
  const detail = coreMessage(errorMessage);

  // The history has an event the code no longer produces at that point.
  let m = /^No command scheduled for event HistoryEvent\(id: (\d+), (\w+)\)/.exec(detail);
  if (m) return at(index, Number(m[1]), m[2]!, 'issued no command there: that call is gone or moved', detail);

  // The code issued a command of another kind than the event the history has.
  m = /^(.+?) machine does not handle this event: HistoryEvent\(id: (\d+), (\w+)\)/.exec(detail);
  if (m) {
    const did = MACHINE_COMMANDS[m[1]!] ?? `issued a "${m[1]}" command`;
    return at(index, Number(m[2]), m[3]!, `${did} there instead`, detail);
  }

  // The history has a patched() marker where the code did not call patched() with that id.
  m = /^Non-deprecated patch marker encountered for change (.+?), but there is no corresponding change command/.exec(
    detail,
  );
  if (m) {
    const patch = m[1]!;
    const id = onlyEvent(index, (e) => index.describe(e).includes(`patch marker "${patch}"`));
    return at(index, id, `the patch marker "${patch}"`, `did not call patched("${patch}") there`, detail);
  }

  // Same kind of command, another activity or child run.
  m =
    /^Activity (id|type) of scheduled event '(.*?)' does not match activity (?:id|type) of activity command '(.*?)'/.exec(
      detail,
    );
  if (m) {
    const [, field, recorded, code] = m as unknown as [string, string, string, string];
    const id = onlyEvent(index, (e) => {
      const a = e.activityTaskScheduledEventAttributes;
      return field === 'id' ? a?.activityId === recorded : a?.activityType?.name === recorded;
    });
    const what = field === 'id' ? `activity #${recorded}` : `activity "${recorded}"`;
    const did = field === 'id' ? `scheduled activity #${code} instead` : `scheduled activity "${code}" instead`;
    return at(index, id, what, did, detail);
  }
  m =
    /^Child workflow (id|type) of scheduled event '(.*?)' does not match child workflow (?:id|type) of command '(.*?)'/.exec(
      detail,
    );
  if (m) {
    const [, field, recorded, code] = m as unknown as [string, string, string, string];
    const id = onlyEvent(index, (e) => {
      const c = e.startChildWorkflowExecutionInitiatedEventAttributes;
      return field === 'id' ? c?.workflowId === recorded : c?.workflowType?.name === recorded;
    });
    return at(index, id, `child run ${field} "${recorded}"`, `started child run ${field} "${code}" instead`, detail);
  }
  return { eventId: null, eventType: null, recorded: 'see detail', code: 'see detail', stepPath: null, detail };
}

/** One paragraph a user can act on. */
export function explainDivergence(d: Divergence): string {
  const where = d.eventId === null ? 'The history' : `At event ${d.eventId} (${d.eventType}) the history`;
  // `recorded` names the step when its event belongs to one; else stepPath is the step that came next.
  const step = d.stepPath && !d.recorded.includes(`"${d.stepPath}"`) ? ` (just before step "${d.stepPath}")` : '';
  const what =
    d.recorded === 'see detail'
      ? `Today's code does not replay this history${step}: ${d.detail.replace(/[.!]+$/, '')}.`
      : `${where} recorded ${d.recorded}${step}, but today's code ${d.code}.`;
  return (
    `${what} The workflow code changed in a way this run cannot follow: a worker running today's code ` +
    "would fail this run's workflow tasks. If the change is deliberate, guard it with patched() so runs " +
    'started before it keep the old path (README, "Upgrade the workers"), or let this run finish on its ' +
    "version's workers; if it is not, revert it."
  );
}
