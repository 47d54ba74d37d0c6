/** Native file picking for the desktop app (tauri-plugin-dialog); the sidecar reads the paths. */
import { inTauri } from './shell'

/** Document types the knowledge pipeline parses (`knowledge/parsers.py`). */
export const KNOWLEDGE_EXTENSIONS = ['txt', 'md', 'markdown', 'html', 'htm', 'pdf', 'docx']
/** The same list as a file input's `accept`. */
export const KNOWLEDGE_ACCEPT = KNOWLEDGE_EXTENSIONS.map((ext) => `.${ext}`).join(',')

/** Ask the user for documents (`filterName` labels the file-type filter, translated by the
 * caller); resolves with absolute paths, or none if cancelled. */
export async function pickFilePaths(filterName: string): Promise<string[]> {
  if (!inTauri()) return []
  const { open } = await import('@tauri-apps/plugin-dialog')
  const picked = await open({ multiple: true, directory: false, filters: [{ name: filterName, extensions: KNOWLEDGE_EXTENSIONS }] })
  if (picked === null) return []
  return Array.isArray(picked) ? picked : [picked]
}
