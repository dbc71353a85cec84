// The post-it workshop (`postit`): silent writing, reveal, grouping, dot vote, all on the
// generic board; this module adds the facilitator's clustering suggestions (board/suggestions.ts,
// docs/clustering.md "In the web UI"). It writes no key of its own (docs/board-schema.md,
// "Board kinds", "Post-it workshop"). Free boards mount it too.

import { ClusterSuggestionsPanel } from '../board/suggestions'
import type { KindHost, KindView } from './index'

export function mountPostit (host: KindHost): KindView {
  const suggestions = new ClusterSuggestionsPanel(host.ctx, host.notes, host.clusters, {
    boardId: () => host.board().id,
    host: host.body
  }, host.panels)
  host.toolbarExtras.append(suggestions.panel.toggle)
  const relabel = (): void => {
    suggestions.relabel()
    // The group holds only the facilitator's button: no empty group for participants.
    host.toolbarExtras.hidden = !host.ctx.facilitator()
  }
  relabel()
  return {
    relabel,
    destroy: () => {
      suggestions.destroy()
      suggestions.panel.toggle.remove()
    }
  }
}
