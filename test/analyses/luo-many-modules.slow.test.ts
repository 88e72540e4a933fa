// Many distinct modules, one LUO pin each (luo-many-modules-case.ts, synthetic), at the scale where
// a pass per module over every pin window showed (issue #15): 2·10⁴ modules, about 2 s of CPU.
import { manyModulesTest } from './luo-many-modules-case.js';

manyModulesTest(20_000);
