/** An agent's capabilities <-> the agent form's text fields (one glob or domain a line). */
import type { Capabilities } from '@/api'
import type { LimitsDraft } from '@/components/AgentLimits.vue'

const lines = (text: string) => text.split('\n').map((l) => l.trim()).filter(Boolean)

export function limitsDraft(caps: Partial<Capabilities> | null | undefined): LimitsDraft {
  return {
    run_code: caps?.run_code ?? true,
    restrict_writes: caps?.write_paths != null,
    write_paths: (caps?.write_paths ?? []).join('\n'),
    fetch_default: caps?.fetch_default ?? 'ask',
    fetch_allow: (caps?.fetch_allow ?? []).join('\n'),
    fetch_deny: (caps?.fetch_deny ?? []).join('\n'),
  }
}

export function capabilitiesOf(draft: LimitsDraft): Capabilities {
  return {
    run_code: draft.run_code,
    // Restricted with no pattern: nowhere.
    write_paths: draft.restrict_writes ? lines(draft.write_paths) : null,
    fetch_default: draft.fetch_default,
    fetch_allow: lines(draft.fetch_allow),
    fetch_deny: lines(draft.fetch_deny),
  }
}
