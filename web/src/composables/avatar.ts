/** The agent avatar the sidecar gives a new agent. It stays user data, but it is drawn as an SVG
 *  (components/AgentAvatar.vue) so it never depends on an emoji font (a fresh Linux has none). */
export const DEFAULT_AVATAR = '🌿'

export function isDefaultAvatar(avatar: string | null | undefined): boolean {
  return !avatar || avatar.trim() === '' || avatar === DEFAULT_AVATAR
}

/** An agent in a <select> option, which can hold text only: a custom avatar, then the name. */
export function agentOptionLabel(agent: { avatar?: string | null; name: string }): string {
  return isDefaultAvatar(agent.avatar) ? agent.name : `${agent.avatar} ${agent.name}`
}
