// Checks across scenarios (docs/product.md §7): a chain of goto_scenario that comes back to where it started without
// anything on the way that could end the call loops for ever, so it is refused with the path of the goto.
import type { Path } from './checker.js';
import type { ScenarioAction } from './scenario-model.js';

/** Actions that never end the call nor wait for the caller: a loop made only of these never stops. */
const PASS_THROUGH = new Set<ScenarioAction['type']>(['answer', 'play', 'set_language']);

interface Step {
  target: string;
  /** Index of the goto in its scenario's top-level actions. */
  at: number;
}

/** The first unconditional top-level goto of a scenario, when every action before it only passes through. */
function deadStep(actions: readonly ScenarioAction[]): Step | undefined {
  for (let i = 0; i < actions.length; i++) {
    const a = actions[i]!;
    if (a.type === 'goto_scenario' && !a.when) return { target: a.scenario, at: i };
    // A conditional goto does not always jump; other conditional actions only pass through when skipped.
    if (a.type === 'goto_scenario') continue;
    if (!PASS_THROUGH.has(a.type)) return undefined;
  }
  return undefined;
}

export interface LoopIssue {
  path: Path;
  message: string;
}

/**
 * Goto loops with no exit among the scenarios (listed at `pathOf(index)`): following each scenario's unconditional
 * goto_scenario through scenarios that only answer, play or set the language comes back to itself.
 * A loop through a menu (`detect_dtmf`) or anything that can end the call is fine.
 */
export function findGotoLoops(scenarios: readonly { name: string; actions: readonly ScenarioAction[] }[], pathOf: (index: number) => Path): LoopIssue[] {
  const index = new Map(scenarios.map((s, i) => [s.name, i]));
  const steps = scenarios.map((s) => deadStep(s.actions));
  const issues: LoopIssue[] = [];
  const reported = new Set<number>();
  scenarios.forEach((_s, start) => {
    const seen: number[] = [];
    let cur: number | undefined = start;
    while (cur !== undefined && !seen.includes(cur)) {
      seen.push(cur);
      const step: Step | undefined = steps[cur];
      cur = step ? index.get(step.target) : undefined;
    }
    if (cur !== start || reported.has(start)) return;
    for (const i of seen) reported.add(i);
    const chain = [...seen, start].map((i) => scenarios[i]!.name).join(' → ');
    issues.push({ path: [...pathOf(start), 'actions', steps[start]!.at, 'scenario'], message: `goto_scenario loops with no exit (${chain}): nothing on the way answers a person, asks the caller or ends the call` });
  });
  return issues;
}
