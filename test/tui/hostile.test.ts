// Issue 15 case 2 in the TUI (hostile-case.ts): no escape of the trace reaches a frame. The fast set
// walks the Sessions and Modules screens; hostile.slow.test.ts walks all six.
import { hostileTuiTest } from './hostile-case.js';

hostileTuiTest(['2', '3']);
