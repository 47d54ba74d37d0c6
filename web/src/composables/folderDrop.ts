/**
 * Files and whole folders dropped on the Workspace screen (or chosen with a folder picker), each
 * with its path relative to what was dropped: `photos/2024/a.jpg`. The sidecar confines every path
 * again; this only keeps the folder structure the user dropped.
 */
import type { WorkspaceUpload } from '@/api'

/** What the browser hands a drop: entries (folders walkable) where it can, plain files otherwise. */
export async function droppedUploads(transfer: DataTransfer): Promise<WorkspaceUpload[]> {
  const entries = Array.from(transfer.items ?? [])
    .map((item) => (item.kind === 'file' ? item.webkitGetAsEntry?.() : null))
    .filter((entry): entry is FileSystemEntry => !!entry)
  if (entries.length === 0) return Array.from(transfer.files).map((file) => ({ file, path: file.name }))
  const uploads: WorkspaceUpload[] = []
  for (const entry of entries) await walk(entry, '', uploads)
  return uploads
}

/** A file input's choice; with `webkitdirectory` each file knows its path inside the folder. */
export function chosenUploads(files: FileList | File[]): WorkspaceUpload[] {
  return Array.from(files).map((file) => ({ file, path: file.webkitRelativePath || file.name }))
}

async function walk(entry: FileSystemEntry, prefix: string, out: WorkspaceUpload[]): Promise<void> {
  const path = prefix ? `${prefix}/${entry.name}` : entry.name
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject))
    out.push({ file, path })
    return
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader()
  // readEntries answers in batches (100 in Chromium) until it answers with none.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject))
    if (batch.length === 0) return
    for (const child of batch) await walk(child, path, out)
  }
}
