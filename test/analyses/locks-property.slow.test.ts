// Property tests of the lock interval arithmetic (locks-property-cases.ts) at full count: 200
// intact and 300 cut and lossy random scenarios (about 2 s of CPU). The fast set runs a quarter.
import { lockPropertyTests } from './locks-property-cases.js';

lockPropertyTests(1);
