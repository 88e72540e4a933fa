// Many distinct modules, one LUO pin each (luo-many-modules-case.ts, synthetic): 2·10³ here; the
// slow set runs 2·10⁴ (luo-many-modules.slow.test.ts).
import { manyModulesTest } from './luo-many-modules-case.js';

manyModulesTest(2_000);
