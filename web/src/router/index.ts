import type { FunctionalComponent } from 'vue'
import {
  Activity,
  BookOpen,
  Bot,
  CalendarClock,
  FolderOpen,
  MessageSquare,
  Puzzle,
  ScrollText,
  Settings,
} from 'lucide-vue-next'
import { createRouter, createWebHashHistory } from 'vue-router'

import type { ShortcutAction } from '@/composables/shortcuts'
import ChatView from '@/views/ChatView.vue'

/** A screen in the left rail (components/NavRail.vue): its icon, label key, and place. */
export interface NavMeta {
  icon: FunctionalComponent
  labelKey: string
  order: number
  /** Shown in the item's tooltip. */
  shortcut?: ShortcutAction
}

declare module 'vue-router' {
  interface RouteMeta {
    nav?: NavMeta
  }
}

// Hash history: the app is served from the Tauri custom protocol, with no server to rewrite paths.
export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', name: 'chat', component: ChatView, meta: { nav: { icon: MessageSquare, labelKey: 'nav.chat', order: 10 } } },
    {
      path: '/agents',
      name: 'agents',
      component: () => import('@/views/AgentsView.vue'),
      meta: { nav: { icon: Bot, labelKey: 'nav.agents', order: 20 } },
    },
    {
      path: '/knowledge',
      name: 'knowledge',
      component: () => import('@/views/KnowledgeView.vue'),
      meta: { nav: { icon: BookOpen, labelKey: 'nav.knowledge', order: 30 } },
    },
    // An agent's files: `?agent=<id>&path=<file>` opens one (chat tool cards link here).
    {
      path: '/workspace',
      name: 'workspace',
      component: () => import('@/views/WorkspaceView.vue'),
      meta: { nav: { icon: FolderOpen, labelKey: 'nav.workspace', order: 40 } },
    },
    {
      path: '/prompts',
      name: 'prompts',
      component: () => import('@/views/PromptsView.vue'),
      meta: { nav: { icon: ScrollText, labelKey: 'nav.prompts', order: 50 } },
    },
    {
      path: '/tasks',
      name: 'tasks',
      component: () => import('@/views/TasksView.vue'),
      meta: { nav: { icon: CalendarClock, labelKey: 'nav.tasks', order: 60 } },
    },
    {
      path: '/skills',
      name: 'skills',
      component: () => import('@/views/SkillsView.vue'),
      meta: { nav: { icon: Puzzle, labelKey: 'nav.skills', order: 70 } },
    },
    // Settings: one section at a time, `/settings/<section>` (views/settingsSections.ts lists them).
    {
      path: '/settings/:section?',
      name: 'settings',
      component: () => import('@/views/SettingsView.vue'),
      meta: { nav: { icon: Settings, labelKey: 'nav.settings', order: 80, shortcut: 'settings' } },
    },
    // A reply's trace ("Details" on an assistant message): services/traces in the sidecar.
    { path: '/trace/:messageId', name: 'trace', component: () => import('@/views/TraceView.vue') },
    {
      path: '/status',
      name: 'status',
      component: () => import('@/views/StatusView.vue'),
      meta: { nav: { icon: Activity, labelKey: 'nav.status', order: 90 } },
    },
    // The quick-ask window's page (src-tauri/src/quick.rs), shown without the app's chrome.
    { path: '/quick', name: 'quick', component: () => import('@/views/QuickAskView.vue') },
  ],
})

/** The rail's screens, in order. */
export function navRoutes(): { name: string; path: string; nav: NavMeta }[] {
  return router
    .getRoutes()
    .filter((r) => r.meta.nav && typeof r.name === 'string')
    .map((r) => ({ name: r.name as string, path: r.path.replace('/:section?', ''), nav: r.meta.nav as NavMeta }))
    .sort((a, b) => a.nav.order - b.nav.order)
}
