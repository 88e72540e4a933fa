// Property tests of the lock interval arithmetic (locks-property-cases.ts): in the fast set, 50 and
// 75 random scenarios; the slow set runs 200 and 300 (locks-property.slow.test.ts).
import { lockPropertyTests } from './locks-property-cases.js';

lockPropertyTests(0.25);
