/** Files given by drag and drop or a file input, for the composer and the knowledge screen. */
import { ref } from 'vue'

export function useFileDrop(onFiles: (files: File[]) => void) {
  const dragging = ref(false)

  function dropped(event: DragEvent): void {
    dragging.value = false
    const files = [...(event.dataTransfer?.files ?? [])]
    if (files.length) onFiles(files)
  }

  function chosen(event: Event): void {
    const input = event.target as HTMLInputElement
    const files = [...(input.files ?? [])]
    input.value = '' // choosing the same file again must fire `change` again
    if (files.length) onFiles(files)
  }

  return { dragging, dropped, chosen }
}
