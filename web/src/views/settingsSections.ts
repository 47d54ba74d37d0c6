import type { Component } from 'vue'
import {
  BookOpen,
  Bot,
  Cpu,
  Database,
  Globe,
  Info,
  Monitor,
  Network,
  Plug,
  ScrollText,
  Shield,
  ChartColumn,
} from 'lucide-vue-next'

/** One Settings section: its route `/settings/<id>`, its label and search keywords
 *  (`settingsNav.sections.<id>` and `settingsNav.keywords.<id>` in the locales), and what it shows. */
export interface SettingsSection {
  id: string
  icon: Component
  load: () => Promise<Component>
}

// The section components are the ones Settings always had; only the host (SettingsView) changed.
export const SETTINGS_SECTIONS: readonly SettingsSection[] = [
  { id: 'providers', icon: Bot, load: () => import('@/components/ProviderSettings.vue').then((m) => m.default) },
  { id: 'models', icon: Cpu, load: () => import('@/components/ContextSettings.vue').then((m) => m.default) },
  { id: 'mcp', icon: Plug, load: () => import('@/components/McpSettings.vue').then((m) => m.default) },
  { id: 'knowledge', icon: BookOpen, load: () => import('@/components/KnowledgeSettings.vue').then((m) => m.default) },
  { id: 'network', icon: Network, load: () => import('@/components/NetworkSettings.vue').then((m) => m.default) },
  { id: 'web-search', icon: Globe, load: () => import('@/components/WebSearchSettings.vue').then((m) => m.default) },
  { id: 'usage', icon: ChartColumn, load: () => import('@/components/UsageSettings.vue').then((m) => m.default) },
  { id: 'privacy', icon: Shield, load: () => import('@/components/PrivacySettings.vue').then((m) => m.default) },
  { id: 'audit', icon: ScrollText, load: () => import('@/components/AuditLogSettings.vue').then((m) => m.default) },
  { id: 'desktop', icon: Monitor, load: () => import('@/components/DesktopSettings.vue').then((m) => m.default) },
  { id: 'data', icon: Database, load: () => import('@/components/DataSettings.vue').then((m) => m.default) },
  { id: 'about', icon: Info, load: () => import('@/components/AboutSettings.vue').then((m) => m.default) },
]

/** Lower-case, accents and width folded: "Réseau" and "ＡＰＩ" match "reseau" and "api". */
export function fold(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase()
}

/** The sections whose label or keywords, in any language given, contain every word of the query. */
export function filterSections(
  query: string,
  texts: (id: string) => string[],
  sections: readonly SettingsSection[] = SETTINGS_SECTIONS,
): SettingsSection[] {
  const words = fold(query).split(/\s+/).filter(Boolean)
  if (!words.length) return [...sections]
  return sections.filter((s) => {
    const haystack = fold(texts(s.id).join(' '))
    return words.every((w) => haystack.includes(w))
  })
}
