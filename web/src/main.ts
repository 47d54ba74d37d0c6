// The entry: the boot screen paints, then the app loads (boot.ts says why).
import { afterFirstPaint, showBootFailure } from './boot'

afterFirstPaint()
  .then(() => {
    performance.mark('sage:app-import') // read by bench/startup/launch_timeline.mjs
    return import('./app')
  })
  .catch(showBootFailure)
