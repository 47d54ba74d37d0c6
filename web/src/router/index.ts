import { createRouter, createWebHashHistory } from 'vue-router'

import ChatView from '@/views/ChatView.vue'

// Hash history: the app is served from the Tauri custom protocol, with no server to rewrite paths.
export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', name: 'chat', component: ChatView },
    { path: '/agents', name: 'agents', component: () => import('@/views/AgentsView.vue') },
    { path: '/knowledge', name: 'knowledge', component: () => import('@/views/KnowledgeView.vue') },
    // An agent's files: `?agent=<id>&path=<file>` opens one (chat tool cards link here).
    { path: '/workspace', name: 'workspace', component: () => import('@/views/WorkspaceView.vue') },
    { path: '/prompts', name: 'prompts', component: () => import('@/views/PromptsView.vue') },
    { path: '/tasks', name: 'tasks', component: () => import('@/views/TasksView.vue') },
    { path: '/skills', name: 'skills', component: () => import('@/views/SkillsView.vue') },
    { path: '/settings', name: 'settings', component: () => import('@/views/SettingsView.vue') },
    // A reply's trace ("Details" on an assistant message): services/traces in the sidecar.
    { path: '/trace/:messageId', name: 'trace', component: () => import('@/views/TraceView.vue') },
    { path: '/status', name: 'status', component: () => import('@/views/StatusView.vue') },
    // The quick-ask window's page (src-tauri/src/quick.rs), shown without the app's chrome.
    { path: '/quick', name: 'quick', component: () => import('@/views/QuickAskView.vue') },
  ],
})
