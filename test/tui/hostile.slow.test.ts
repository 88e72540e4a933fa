// Issue 15 case 2 in the TUI (hostile-case.ts) on every screen and its drill-downs: no escape of
// the trace reaches a frame (about 3 s of CPU; the fast set walks two screens).
import { hostileTuiTest } from './hostile-case.js';

hostileTuiTest(['1', '2', '3', '4', '5', '6']);
